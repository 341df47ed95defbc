"""Cases and signals, step 2: every automated flag's measurement becomes a signal of it, and the open flags of
one indicator and category merge into one case.

The case that survives is the one furthest along (project, agency-managed, escalated, monitoring, in review,
detected; the oldest of equals); it receives a copy of the others' signals. Each absorbed flag is resolved
with a resolution naming the case and keeps its own signals, notes and escalations. Every change is recorded:
one ``flag.merged`` event on each absorbed flag and one on the surviving case, chained onto the audit trail
like any other event. Nothing already in the trail is rewritten."""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

CHANGE_KINDS = {"period_change", "year_over_year", "target", "trend_average"}
UNITS = {"control_limit": "sigma", "sustained": "periods", "sawtooth": "periods", "stale": "days"}
OPEN = ("detected", "in_review", "monitoring", "escalated", "agency_managed", "project")
FURTHEST_FIRST = ("project", "agency_managed", "escalated", "monitoring", "in_review", "detected")
RANK = {"yellow": 1, "red": 2}
LABEL = "case migration"
_CHAIN_LOCK_KEY = 7_302_118_001  # the audit chain's advisory lock (escalations.services.events)


def _thresholds(rule, indicator):
    factor = rule.critical_factor if indicator.critical else Decimal(1)
    if rule.kind in CHANGE_KINDS:
        yellow = indicator.tolerance if indicator.tolerance is not None else rule.yellow * factor
        return yellow, rule.red * factor
    if rule.kind == "control_limit":
        return rule.yellow * factor, rule.red * factor
    if rule.kind == "impossible_value":
        return None, None
    return rule.yellow, rule.red


def _beyond(measure, yellow):
    if measure is None:
        return None
    if not yellow:
        return Decimal(10) if measure > 0 else Decimal(0)
    return min(Decimal(10), measure / yellow).quantize(Decimal("0.01"))


def _signal_of(flag, Signal, preliminary):
    rule, indicator = flag.rule, flag.indicator
    measure = flag.worse_by
    if measure is not None and rule.kind in CHANGE_KINDS:
        measure = (measure * 100).quantize(Decimal("0.000001"))
    yellow, red = _thresholds(rule, indicator)
    # The severity the rule measured (the flag's own may have been pinned by a person).
    severity = "red" if measure is None or (red is not None and measure >= red) else "yellow"
    if rule.kind == "impossible_value":
        severity = "red"
    return Signal(
        flag_id=flag.pk,
        rule_id=rule.pk,
        period=flag.period or flag.detected_at.date(),
        value=flag.value,
        baseline=flag.baseline,
        change=flag.change,
        measure=measure,
        unit="percent" if rule.kind in CHANGE_KINDS else UNITS.get(rule.kind, ""),
        yellow=yellow,
        red=red,
        severity=severity,
        preliminary=(flag.indicator_id, flag.period) in preliminary,
        first_seen_at=flag.detected_at,
        last_seen_at=flag.last_detected_at,
        cleared_at=flag.recovered_at,
    )


def forward(apps, schema_editor):
    from escalations.audit_trail import event_hash, json_safe

    Flag = apps.get_model("escalations", "Flag")
    Signal = apps.get_model("escalations", "Signal")
    Event = apps.get_model("escalations", "Event")
    Measurement = apps.get_model("indicators", "Measurement")
    now = timezone.now()

    flags = list(Flag.objects.filter(rule__isnull=False).select_related("rule", "indicator"))
    periods = {(f.indicator_id, f.period) for f in flags}
    preliminary = {
        (m.indicator_id, m.period)
        for m in Measurement.objects.filter(preliminary=True, indicator_id__in={f.indicator_id for f in flags})
        if (m.indicator_id, m.period) in periods
    }
    signals = [_signal_of(flag, Signal, preliminary) for flag in flags]
    Signal.objects.bulk_create(signals, batch_size=500)
    for flag, signal in zip(flags, signals, strict=True):
        flag.beyond = _beyond(signal.measure, signal.yellow) if signal.cleared_at is None else None
    Flag.objects.bulk_update(flags, ["beyond"], batch_size=500)

    groups = defaultdict(list)
    for flag in Flag.objects.filter(status__in=OPEN).order_by("id"):
        groups[(flag.indicator_id, flag.category)].append(flag)
    merges = [group for group in groups.values() if len(group) > 1]
    if not merges:
        return

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    head = Event.objects.order_by("-id").values_list("hash", flat=True).first() or "0" * 64

    def record(**fields):
        nonlocal head
        event = Event(occurred_at=now, actor=None, actor_label=LABEL, prev_hash=head, **fields)
        event.data = json_safe(event.data)
        event.hash = head = event_hash(event)
        event.save(force_insert=True)

    for group in merges:
        group.sort(key=lambda f: (FURTHEST_FIRST.index(f.status), f.detected_at, f.pk))
        case, absorbed = group[0], group[1:]
        for other in absorbed:
            for signal in Signal.objects.filter(flag_id=other.pk):
                signal.pk = None
                signal.flag_id = case.pk
                signal.save(force_insert=True)
            from_status = other.status
            other.status = "resolved"
            other.resolution = f"Merged into case #{case.pk}: one case per indicator and category."
            other.closed_at = now
            other.due_at = other.overdue_at = other.monitor_until = None
            other.save()
            record(
                verb="flag.merged",
                flag_id=other.pk,
                indicator_id=other.indicator_id,
                from_status=from_status,
                to_status="resolved",
                data={"into": case.pk},
            )
        active = list(Signal.objects.filter(flag_id=case.pk, cleared_at__isnull=True))
        pinned = [f.severity for f in group if f.severity_pinned]
        severities = [s.severity for s in active] + pinned
        old_severity = case.severity
        if severities:
            case.severity = max(severities, key=RANK.__getitem__)
        case.severity_pinned = bool(pinned)
        case.beyond = max((b for s in active if (b := _beyond(s.measure, s.yellow)) is not None), default=None)
        case.recovered_at = None if active else case.recovered_at
        case.save()
        record(
            verb="flag.merged",
            flag_id=case.pk,
            indicator_id=case.indicator_id,
            from_status="",
            to_status="",
            data={
                "merged": [f.pk for f in absorbed],
                "severity": case.severity,
                "old_severity": old_severity,
                "reason": "one case per indicator and category: the open flags of each rule became its signals",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("escalations", "0004_signals")]

    # Not undone: going back leaves the cases as they are (step 3 restores the columns, empty).
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
