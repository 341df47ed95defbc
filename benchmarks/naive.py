"""The naive baseline: a Python loop over indicators with the ORM — fetch the series, compute what each rule
needs in Python, save flags one by one with their events. The benchmark times it on a sample."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from escalations.audit import Verb
from escalations.lifecycle import OPEN_STATUSES
from escalations.models import Flag
from escalations.services.detection import SYSTEM_LABEL, flag_category
from escalations.services.events import event_record
from indicators.detection.classify import classify
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


def _applies(rule: ThresholdRule, indicator: Indicator) -> bool:
    return (
        rule.scope == "all"
        or (rule.scope == "critical" and indicator.critical)
        or (rule.scope == "agency" and rule.agency_id == indicator.agency_id)
        or (rule.scope == "indicator" and rule.indicator_id == indicator.pk)
    )


def _save(breach: Breach) -> None:
    now = timezone.now()
    flag = Flag.objects.filter(
        indicator_id=breach.indicator_id, rule_id=breach.rule_id, status__in=OPEN_STATUSES
    ).first()
    fields = {
        "period": breach.period,
        "value": breach.value,
        "baseline": breach.baseline,
        "change": breach.change,
        "worse_by": breach.worse_by,
        "last_detected_at": now,
    }
    if flag is None:
        flag = Flag.objects.create(
            indicator_id=breach.indicator_id,
            rule_id=breach.rule_id,
            category=flag_category(breach.kind),
            severity=breach.severity,
            detected_at=now,
            **fields,
        )
        event_record(verb=Verb.FLAG_DETECTED, actor_label=SYSTEM_LABEL, flag=flag, to_status=flag.status)
    else:
        for name, value in fields.items():
            setattr(flag, name, value)
        flag.detection_count += 1
        flag.save()


def naive_check(*, sample: int, as_of: dt.date) -> int:
    """Evaluate and save flags for the first ``sample`` active indicators, one at a time. Returns breaches."""
    rules = active_rules()
    models = list(ThresholdRule.objects.filter(active=True))
    found = 0
    for indicator in Indicator.objects.filter(active=True).order_by("id")[:sample]:
        series = list(
            indicator.measurements.filter(period__lte=as_of).order_by("period").values_list("period", "value")
        )
        if not series:
            continue
        row = _row(indicator, series, rules)
        picked = {}
        for model in sorted(models, key=lambda r: ({"indicator": 0, "agency": 1, "critical": 2}.get(r.scope, 3), r.pk)):
            if _applies(model, indicator):
                picked.setdefault(model.kind, rules[model.pk])
        for rule in picked.values():
            outcome = classify(rule, row, as_of)
            if isinstance(outcome, Breach):
                _save(outcome)
                found += 1
    return found
