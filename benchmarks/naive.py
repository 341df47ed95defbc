"""The naive baseline: a Python loop over indicators with the ORM — fetch the series, compute what each rule
needs in Python, save flags one by one with their events. It does the same work as the set-based check (the
same rules picked, the same math, flags opened, updated and recovered, each change with its audit event in one
transaction) one indicator and one flag at a time. The benchmark times it on a sample."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escalations.audit import Verb
from escalations.lifecycle import OPEN_STATUSES
from escalations.models import Flag
from escalations.services.detection import SYSTEM_LABEL, flag_category
from escalations.services.events import event_record
from indicators.detection.classify import NOT_EVALUATED, classify
from indicators.detection.rules import STEP_MONTHS, active_rules
from indicators.detection.types import Breach
from indicators.models import Indicator, ThresholdRule


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month


def _row(indicator: Indicator, series: list[tuple[dt.date, Decimal]], rules) -> dict:
    step = STEP_MONTHS.get(indicator.frequency, 12)
    by_k = {_month(p) // step: v for p, v in series}
    by_month = {_month(p): v for p, v in series}
    period, value = series[-1]
    k, month = _month(period) // step, _month(period)
    values = [v for _p, v in series]
    changes = list(zip(values, values[1:], strict=False))

    def streak(worse) -> int:
        count = 0
        for before, after in reversed(changes):
            if not worse(before, after):
                break
            count += 1
        return count

    rise = 0
    for before, after in reversed(changes[:-1]):
        if after < before:
            break
        rise += 1
    row = {
        "indicator_id": indicator.pk,
        "period": period,
        "value": value,
        "lag_value": values[-2] if len(values) > 1 else None,
        "prev_value": by_k.get(k - 1),
        "yoy_value": by_month.get(month - 12),
        "down_streak": streak(lambda a, b: b < a),
        "up_streak": streak(lambda a, b: b > a),
        "rise_run": rise if len(values) > 1 else None,
        "step": step,
        "desired_direction": indicator.desired_direction,
        "critical": indicator.critical,
        "target": indicator.target,
        "target_kind": indicator.target_kind,
        "tolerance": indicator.tolerance,
        "measurement_type": indicator.measurement_type,
    }

    def point(p: dt.date, v: Decimal):
        if step == 12:
            return v
        year_ago = by_month.get(_month(p) - 12)
        return None if year_ago is None else v - year_ago

    row["point"] = point(period, value)
    for rule in rules.values():
        if rule.kind == "trend_average":
            window = [by_k[j] for j in range(k - rule.n, k + 1) if j in by_k]
            row[f"ta{rule.n}_s"], row[f"ta{rule.n}_c"] = sum(window), len(window)
        if rule.kind == "control_limit":
            pts = [point(p, v) for p, v in series if k - rule.window <= _month(p) // step <= k]
            pts = [x for x in pts if x is not None]
            w = rule.window
            row[f"cl{w}_n"], row[f"cl{w}_s"], row[f"cl{w}_q"] = len(pts), sum(pts), sum(x * x for x in pts)
    return row


def _applicable(indicator: Indicator, rules) -> list:
    """The most specific active rule of each kind for ``indicator``, asked of the database per indicator."""
    scope = (
        Q(scope="all") | Q(scope="agency", agency_id=indicator.agency_id) | Q(scope="indicator", indicator=indicator)
    )
    if indicator.critical:
        scope |= Q(scope="critical")
    scoped = ThresholdRule.objects.filter(scope, active=True)
    picked = {}
    for model in sorted(scoped, key=lambda r: ({"indicator": 0, "agency": 1, "critical": 2}.get(r.scope, 3), r.pk)):
        picked.setdefault(model.kind, rules[model.pk])
    return list(picked.values())


def _save(rule, indicator: Indicator, outcome, now) -> int:
    """Apply one rule's outcome for one indicator to its open flag, in a transaction of its own with its event
    (as every change to a flag must be). Returns 1 for a breach."""
    flag = Flag.objects.filter(indicator_id=indicator.pk, rule_id=rule.id, status__in=OPEN_STATUSES).first()
    if not isinstance(outcome, Breach):
        if flag is not None and flag.recovered_at is None:
            with transaction.atomic():
                flag.recovered_at = now
                flag.save()
                event_record(verb=Verb.FLAG_RECOVERED, actor_label=SYSTEM_LABEL, flag=flag, data={"rule": rule.id})
        return 0
    fields = {name: getattr(outcome, name) for name in ("period", "value", "baseline", "change", "worse_by")}
    with transaction.atomic():
        if flag is None:
            flag = Flag.objects.create(
                indicator_id=indicator.pk,
                rule_id=rule.id,
                category=flag_category(outcome.kind),
                severity=outcome.severity,
                detected_at=now,
                last_detected_at=now,
                **fields,
            )
            event_record(verb=Verb.FLAG_DETECTED, actor_label=SYSTEM_LABEL, flag=flag, to_status=flag.status)
        else:
            changed = flag.value != outcome.value or (not flag.severity_pinned and flag.severity != outcome.severity)
            for name, value in fields.items():
                setattr(flag, name, value)
            if not flag.severity_pinned:
                flag.severity = outcome.severity
            flag.last_detected_at, flag.recovered_at = now, None
            flag.detection_count += 1
            flag.save()
            if changed:
                event_record(verb=Verb.FLAG_REDETECTED, actor_label=SYSTEM_LABEL, flag=flag)
    return 1


def naive_check(*, sample: int, as_of: dt.date) -> int:
    """Evaluate and save flags for the first ``sample`` active indicators, one at a time: per indicator, ask
    for its rules and its series, evaluate each rule in Python, look up the open flag of each and save what
    changed (opened, updated or recovered) with its event, each in its own transaction. Returns breaches."""
    rules = active_rules()
    found = 0
    for indicator in Indicator.objects.filter(active=True).order_by("id")[:sample]:
        series = list(
            indicator.measurements.filter(period__lte=as_of).order_by("period").values_list("period", "value")
        )
        if not series:
            continue
        applicable = _applicable(indicator, rules)
        row = _row(indicator, series, {rule.id: rule for rule in applicable})
        now = timezone.now()
        for rule in applicable:
            outcome = classify(rule, row, as_of)
            if outcome is not NOT_EVALUATED:
                found += _save(rule, indicator, outcome, now)
    return found
