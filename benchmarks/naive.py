"""The naive baseline: a Python loop over indicators with the ORM — fetch the series, compute what each rule
needs in Python, save cases and signals one by one with their events. It does the same work as the set-based
check (the same rules, the same math, cases opened, followed, cleared or left as decided, each change with its
audit event in one transaction, the indicator's colour) one indicator and one case at a time. The benchmark
times it on a sample."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escalations import deadlines
from escalations.audit_trail import Verb
from escalations.case_signals import SEVERITY_RANK, reraise_reason
from escalations.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, FlagStatus
from escalations.models import Flag, FlagCategory, Signal
from escalations.priority import beyond_threshold
from escalations.services.detection import SYSTEM_LABEL, _changed, flag_category
from escalations.services.events import event_record
from escalations.services.flags import flag_resume
from indicators.detection.classify import NOT_EVALUATED, classify
from indicators.detection.rules import STEP_MONTHS, active_rules
from indicators.detection.types import Breach
from indicators.models import Indicator, Rag, ThresholdRule


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month


def _row(indicator: Indicator, series: list[tuple[dt.date, Decimal]], rules) -> dict:
    """What the set-based check's window query gives for one indicator's latest period, computed in Python: the
    latest value and its neighbours, streaks, and the sums each of ``rules`` reads."""
    step = STEP_MONTHS.get(indicator.frequency, 12)
    by_k = {_month(p) // step: v for p, v in series}
    by_month = {_month(p): v for p, v in series}
    period, value = series[-1]
    k = _month(period) // step
    values = [v for _p, v in series]
    changes = list(itertools.pairwise(values))
    row = {
        "indicator_id": indicator.pk,
        "period": period,
        "value": value,
        "lag_value": values[-2] if len(values) > 1 else None,
        "prev_value": by_k.get(k - 1),
        "yoy_value": by_month.get(_month(period) - 12),
        "down_streak": _streak(changes, lambda a, b: b < a),
        "up_streak": _streak(changes, lambda a, b: b > a),
        "rise_run": _rise_run(changes) if len(values) > 1 else None,
        "step": step,
        "desired_direction": indicator.desired_direction,
        "critical": indicator.critical,
        "target": indicator.target,
        "target_kind": indicator.target_kind,
        "tolerance": indicator.tolerance,
        "measurement_type": indicator.measurement_type,
        "point": _point(period, value, step, by_month),
    }
    for rule in rules.values():
        if rule.kind == "trend_average":
            row |= _trend_average_sums(rule, k, by_k)
        elif rule.kind == "unusual_change":
            row |= _unusual_change_sums(rule, k, step, by_k)
        elif rule.kind == "control_limit":
            row |= _control_limit_sums(rule, k, step, series, by_month)
    return row


def _streak(changes: list[tuple[Decimal, Decimal]], worse) -> int:
    """How many of the latest changes in a row are ``worse(before, after)``."""
    count = 0
    for before, after in reversed(changes):
        if not worse(before, after):
            break
        count += 1
    return count


def _rise_run(changes: list[tuple[Decimal, Decimal]]) -> int:
    """How many changes before the latest one in a row did not fall (the run the latest change ends)."""
    rise = 0
    for before, after in reversed(changes[:-1]):
        if after < before:
            break
        rise += 1
    return rise


def _point(p: dt.date, v: Decimal, step: int, by_month: dict) -> Decimal | None:
    """The value a control chart plots: the value itself for annual series, the change from a year earlier
    otherwise (None without one), so that seasons do not look like special causes."""
    if step == 12:
        return v
    year_ago = by_month.get(_month(p) - 12)
    return None if year_ago is None else v - year_ago


def _trend_average_sums(rule, k: int, by_k: dict) -> dict:
    window = [by_k[j] for j in range(k - rule.n, k + 1) if j in by_k]
    return {f"ta{rule.n}_s": sum(window), f"ta{rule.n}_c": len(window)}


def _unusual_change_sums(rule, k: int, step: int, by_k: dict) -> dict:
    """The recent changes over ``rule.years`` and the earlier ones they are compared with."""
    lag, latest = 12 * rule.years // step, max(1, rule.recent_months // step)
    changes = {j: by_k[j] - by_k[j - lag] for j in by_k if j - lag in by_k}
    recent = [j for j in changes if j > k - latest]
    earlier = [changes[j] for j in changes if k - lag - rule.window < j <= k - lag]
    key = rule.unusual_key
    return {
        f"{key}_rn": len(recent),
        f"{key}_rs": sum(changes[j] for j in recent),
        f"{key}_rb": sum(by_k[j - lag] for j in recent),
        f"{key}_n": len(earlier),
        f"{key}_s": sum(earlier),
        f"{key}_q": sum(x * x for x in earlier),
    }


def _control_limit_sums(rule, k: int, step: int, series: list, by_month: dict) -> dict:
    points = [_point(p, v, step, by_month) for p, v in series if k - rule.window <= _month(p) // step <= k]
    pts = [x for x in points if x is not None]
    w = rule.window
    return {f"cl{w}_n": len(pts), f"cl{w}_s": sum(pts), f"cl{w}_q": sum(x * x for x in pts)}


def _applicable(indicator: Indicator, rules) -> list:
    """The active rules that apply to ``indicator``, asked of the database per indicator: every rule whose scope
    covers it, but where a rule marked ``replaces_broader`` applies, none of its kind with a broader scope."""
    scope = (
        Q(scope="all") | Q(scope="agency", agency_id=indicator.agency_id) | Q(scope="indicator", indicator=indicator)
    )
    if indicator.critical:
        scope |= Q(scope="critical")
    scoped = list(ThresholdRule.objects.filter(scope, active=True).order_by("pk"))
    rank = {"indicator": 0, "agency": 1, "critical": 2, "all": 3}
    narrowest: dict[str, int] = {}
    for model in scoped:
        if model.replaces_broader:
            narrowest[model.kind] = min(narrowest.get(model.kind, 3), rank[model.scope])
    return [rules[m.pk] for m in scoped if rank[m.scope] <= narrowest.get(m.kind, 3)]


def _seen(signal: Signal) -> dict:
    return {name: getattr(signal, name) for name in ("rule_id", "period", "value", "baseline", "measure", "unit")} | {
        "severity": signal.severity,
        "yellow": signal.yellow,
        "red": signal.red,
        "cleared_at": signal.cleared_at,
    }


def _write_signal(case: Flag, breach: Breach, now) -> None:
    fields = {name: getattr(breach, name) for name in ("period", "value", "baseline", "change", "measure", "unit")}
    fields |= {"yellow": breach.yellow, "red": breach.red, "severity": breach.severity}
    fields |= {"preliminary": breach.preliminary, "last_seen_at": now, "cleared_at": None}
    Signal.objects.update_or_create(
        flag=case, rule_id=breach.rule_id, defaults=fields, create_defaults={**fields, "first_seen_at": now}
    )


def _detail(breach: Breach) -> dict:
    return {name: getattr(breach, name) for name in ("rule_id", "kind", "period", "value", "measure", "severity")}


def _save_case(indicator: Indicator, category: str, outcomes: dict, now) -> int:
    """Apply one indicator's outcomes for one category (rule id → breach or ``None``) to its case, in a
    transaction of its own with its event, as ``flags_apply_evaluation`` decides: open (unless the last closed
    case decided on the same thing), follow the data, clear, or resume a monitored case. Returns breaches."""
    breaches = [b for b in outcomes.values() if isinstance(b, Breach)]
    with transaction.atomic():
        case = Flag.objects.filter(indicator_id=indicator.pk, category=category, status__in=OPEN_STATUSES).first()
        if case is None:
            _open_case(indicator, category, breaches, now)
            return len(breaches)
        signals = {s.rule_id: s for s in case.signals.all()}
        if case.status == FlagStatus.MONITORING:
            _update_monitored(case, indicator, signals, outcomes, breaches, now)
        else:
            _update_open(case, signals, outcomes, breaches, now)
    return len(breaches)


def _reraise_reasons(breaches: list[Breach], signals, severity: str, indicator: Indicator) -> str:
    """Why ``breaches`` say something new compared with a case's ``signals`` ("" when they do not)."""
    seen = {s.rule_id: _seen(s) for s in signals}
    reasons = [r for b in breaches if (r := reraise_reason(b, seen, severity, indicator))]
    return "; ".join(dict.fromkeys(reasons))


def _open_case(indicator: Indicator, category: str, breaches: list[Breach], now) -> None:
    """Open a case for ``breaches``, unless the last closed case of the category decided on the same thing."""
    if not breaches:
        return
    previous = (
        Flag.objects.filter(indicator_id=indicator.pk, category=category, status__in=CLOSED_STATUSES)
        .order_by("-id")
        .first()
    )
    reason = ""
    if previous is not None:
        reason = _reraise_reasons(breaches, previous.signals.all(), previous.severity, indicator)
        if not reason:
            return
    severity = max((b.severity for b in breaches), key=SEVERITY_RANK.__getitem__)
    case = Flag.objects.create(
        indicator_id=indicator.pk,
        category=category,
        severity=severity,
        beyond=max((r for b in breaches if (r := beyond_threshold(b.measure, b.yellow)) is not None), default=None),
        detected_at=now,
        previous_flag=previous,
        reraise_reason=reason,
        due_at=deadlines.due_at_for(status=FlagStatus.DETECTED, severity=severity, since=now),
    )
    for breach in breaches:
        _write_signal(case, breach, now)
    verb = Verb.FLAG_REGRESSED if previous is not None else Verb.FLAG_DETECTED
    event_record(
        verb=verb,
        actor_label=SYSTEM_LABEL,
        flag=case,
        to_status=case.status,
        data={"signals": [_detail(b) for b in breaches], "reason": reason},
    )


def _update_monitored(case: Flag, indicator: Indicator, signals: dict, outcomes: dict, breaches: list, now) -> None:
    """A monitored case resumes when the data says something new, and recovers when its signals clear."""
    reasons = _reraise_reasons(breaches, signals.values(), case.severity, indicator)
    if reasons:
        _follow(case, signals, outcomes, breaches, now)
        flag_resume(flag=case, system=SYSTEM_LABEL, reason=reasons)
    elif cleared := _cleared(signals, outcomes):
        _finish(case, signals, [], cleared, now, Verb.FLAG_RECOVERED)


def _update_open(case: Flag, signals: dict, outcomes: dict, breaches: list, now) -> None:
    """An open case follows changed breaches (an event), recovers when signals clear, else keeps its signals
    current without an event."""
    changed = [b for b in breaches if b.rule_id not in signals or _changed(b, _seen(signals[b.rule_id]))]
    if changed:
        _follow(case, signals, outcomes, breaches, now, verb=Verb.FLAG_REDETECTED)
    elif cleared := _cleared(signals, outcomes):
        for breach in breaches:
            _write_signal(case, breach, now)
        _finish(case, signals, breaches, cleared, now, Verb.FLAG_RECOVERED)
    else:
        for breach in breaches:
            _write_signal(case, breach, now)


def _cleared(signals: dict, outcomes: dict) -> list:
    return [s for rule, s in signals.items() if s.cleared_at is None and rule in outcomes and outcomes[rule] is None]


def _follow(case, signals, outcomes, breaches, now, verb=None) -> None:
    for breach in breaches:
        _write_signal(case, breach, now)
    _finish(case, signals, breaches, _cleared(signals, outcomes), now, verb)


def _finish(case, signals, breaches, cleared, now, verb) -> None:
    """Clear signals, then the case's severity, distance beyond and recovery from what stays active."""
    for signal in cleared:
        signal.cleared_at = now
        signal.save()
    active = list(Signal.objects.filter(flag=case, cleared_at__isnull=True))
    if not case.severity_pinned and active:
        case.severity = max((s.severity for s in active), key=SEVERITY_RANK.__getitem__)
    case.beyond = max((r for s in active if (r := beyond_threshold(s.measure, s.yellow)) is not None), default=None)
    case.recovered_at = (case.recovered_at or now) if not active else None
    case.save()
    if verb is not None:
        event_record(verb=verb, actor_label=SYSTEM_LABEL, flag=case, data={"cleared": [s.rule_id for s in cleared]})


def naive_check(*, sample: int, as_of: dt.date) -> int:
    """Evaluate and save cases for the first ``sample`` active indicators, one at a time: per indicator, ask
    for its rules and its series, evaluate each rule in Python, look up the open case of each category and
    save what changed (opened, updated, cleared, resumed) with its event, each case in its own transaction,
    and the indicator's colour. Returns breaches."""
    rules = active_rules()
    found = 0
    for indicator in Indicator.objects.filter(active=True).order_by("id")[:sample]:
        series = list(
            indicator.measurements.filter(period__lte=as_of)
            .order_by("period")
            .values_list("period", "value", "preliminary")
        )
        if not series:
            continue
        applicable = _applicable(indicator, rules)
        row = _row(indicator, [(p, v) for p, v, _ in series], {rule.id: rule for rule in applicable})
        row["preliminary"] = series[-1][2]
        now = timezone.now()
        by_category: dict[str, dict] = {}
        for rule in applicable:
            outcome = classify(rule, row, as_of)
            if outcome is not NOT_EVALUATED:
                by_category.setdefault(flag_category(rule.kind), {})[rule.id] = outcome
        for category, outcomes in by_category.items():
            found += _save_case(indicator, category, outcomes, now)
        performance = [b for b in by_category.get(FlagCategory.PERFORMANCE, {}).values() if isinstance(b, Breach)]
        rag = max((b.severity for b in performance), key=SEVERITY_RANK.__getitem__, default=Rag.GREEN)
        if applicable and indicator.rag != rag:
            Indicator.objects.filter(pk=indicator.pk).update(rag=rag, rag_since=now)
    return found
