"""Turning the detection engine's breaches into flags.

One open flag per (indicator, rule): a breach without one opens a flag (``flag.detected``, or
``flag.regressed`` linked to the closed flag it follows); a breach with one updates it (value, baseline,
change, severity unless a person pinned it, last_detected_at, count; ``flag.redetected`` only when the value
or the severity changed); an evaluated pair with an open flag and no breach records ``flag.recovered`` once
and leaves the flag open for a person. A monitored flag whose breach worsens to red resumes review.

The writes are set-based too: one ``INSERT … ON CONFLICT (indicator_id, rule_id) WHERE <open> DO UPDATE``
per chunk of breaches (rows as arrays on PostgreSQL, see ``bulk``), one ``UPDATE`` for the recoveries, and one
multi-row insert of the events."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from indicators.detection import Breach, Evaluation, sparse_ids
from indicators.models import DATA_QUALITY_KINDS

from .. import sla
from ..audit import Verb
from ..lifecycle import CLOSED_STATUSES, OPEN_STATUSES, FlagStatus, Severity
from ..models import Event, Flag, FlagCategory, FlagOrigin
from .bulk import execute, insert_select
from .events import event_record_many

SYSTEM_LABEL = "nightly check"
_CHUNK = 500  # rows per upsert statement: ~25 parameters a row stays far below SQLite's 32,766


def flag_category(kind: str) -> str:
    """The queue a rule kind's flags go to: the one place the category is derived from the kind."""
    return FlagCategory.DATA_QUALITY if kind in DATA_QUALITY_KINDS else FlagCategory.PERFORMANCE


@dataclass
class DetectionCounts:
    opened: int = 0
    updated: int = 0
    recovered: int = 0
    resumed: int = 0


def _upsert(rows: list[list]) -> str:
    """The upsert for ``rows`` (one value per ``_COLUMNS`` entry): (SQL, parameters)."""
    q = connection.ops.quote_name
    table = q(Flag._meta.db_table)
    insert, params = insert_select(Flag, _COLUMNS, rows)
    # Literal statuses, written exactly as the partial index's predicate, so that both PostgreSQL and SQLite
    # infer the index ``flag_one_open_per_indicator_rule`` as the conflict target.
    open_list = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    refreshed = ["period", "value", "baseline", "change", "worse_by", "last_detected_at", "updated_at"]
    updates = [f"{q(c)} = excluded.{q(c)}" for c in refreshed] + [
        f"{q('severity')} = CASE WHEN {table}.{q('severity_pinned')} THEN {table}.{q('severity')} "
        f"ELSE excluded.{q('severity')} END",
        f"{q('detection_count')} = {table}.{q('detection_count')} + 1",
        f"{q('recovered_at')} = NULL",
    ]
    # SQLite reads "INSERT … SELECT … ON" as a join unless the SELECT has a WHERE; PostgreSQL needs none.
    where = "" if connection.vendor == "postgresql" or "SELECT" not in insert else " WHERE true"
    sql = (
        f"{insert}{where} ON CONFLICT ({q('indicator_id')}, {q('rule_id')}) WHERE {q('status')} IN ({open_list}) "
        f"DO UPDATE SET {', '.join(updates)} RETURNING {q('id')}, {q('indicator_id')}, {q('rule_id')}"
    )
    return sql, params


# Every concrete column is written, with its model default when detection does not set it, so that a field
# added to ``Flag`` later needs no change here.
_COLUMNS = [f.attname for f in Flag._meta.concrete_fields if not f.primary_key]


def _row_builder(now):
    """build(breach, previous_flag_id) → the row's values, in ``_COLUMNS`` order."""
    fields = [Flag._meta.get_field(name) for name in _COLUMNS]
    constant = {
        "origin": FlagOrigin.AUTOMATED,
        "status": FlagStatus.DETECTED,
        "severity_pinned": False,
        "detected_at": now,
        "last_detected_at": now,
        "updated_at": now,
        "detection_count": 1,
    }
    defaults = [constant.get(f.attname, f.get_default()) for f in fields]
    # The review deadline of a new flag depends only on its severity (and on when it was detected).
    due = {severity: sla.due_at_for(status=FlagStatus.DETECTED, severity=severity, since=now) for severity in Severity}
    per_row = {"indicator_id", "rule_id", "category", "period", "value", "baseline", "change", "worse_by"}
    per_row |= {"severity", "previous_flag_id", "due_at"}
    slots = [(i, f.attname) for i, f in enumerate(fields) if f.attname in per_row]

    def build(breach: Breach, previous_flag_id: int | None) -> list:
        values = {
            "indicator_id": breach.indicator_id,
            "rule_id": breach.rule_id,
            "category": flag_category(breach.kind),
            **{name: getattr(breach, name) for name in _MEASURED},
            "previous_flag_id": previous_flag_id,
            "due_at": due[breach.severity],
        }
        row = list(defaults)
        for i, name in slots:
            row[i] = values[name]
        return row

    return build


# What a breach measured: copied onto the flag, and recorded in its event.
_MEASURED = ("period", "value", "baseline", "change", "worse_by", "severity")


def _detail(breach: Breach) -> dict:
    return {"rule": breach.rule_id, "kind": breach.kind, **{name: getattr(breach, name) for name in _MEASURED}}


def flags_apply_evaluation(
    *, evaluation: Evaluation, lo_id: int, hi_id: int, run_id: int | None = None
) -> DetectionCounts:
    """Apply one shard's evaluation (indicators ``lo_id <= id < hi_id``) to the flags. Must run inside the
    caller's transaction, which it extends with row locks on the shard's open flags and the audit-chain lock.

    Statuses: opens flags as ``detected``; never changes an open flag's status, except monitoring →
    in_review (``flag_resume``, event ``flag.resumed``) when the breach worsens to red. Events: one per
    flag opened (``flag.detected`` / ``flag.regressed``), changed (``flag.redetected``) or recovered
    (``flag.recovered``), actor system "nightly check". After commit, the liaisons of the agencies of new red
    flags are notified.
    Safe to repeat: a second application of the same evaluation writes no event and changes no status."""
    from .flags import flag_resume

    counts = DetectionCounts()
    now = timezone.now()
    breaches = {(b.indicator_id, b.rule_id): b for b in evaluation.breaches}  # one row per key per statement
    rule_ids = {rule_id for _indicator, rule_id in evaluation.evaluated}
    in_shard = Flag.objects.filter(indicator_id__gte=lo_id, indicator_id__lt=hi_id, rule_id__in=rule_ids)
    evaluated_ids = sparse_ids({indicator_id for indicator_id, _rule in evaluation.evaluated}, lo_id, hi_id)
    if evaluated_ids is not None:  # a few changed indicators of a wide range: only their flags
        in_shard = in_shard.filter(indicator_id__in=evaluated_ids)
    # Lock the shard's open flags: a person's action on one of them waits for this transaction, and then
    # sees what detection wrote.
    open_flags = {
        (f["indicator_id"], f["rule_id"]): f
        for f in in_shard.filter(status__in=OPEN_STATUSES)
        .select_for_update()
        .values("id", "indicator_id", "rule_id", "value", "severity", "severity_pinned", "status", "recovered_at")
    }
    new_keys = [key for key in breaches if key not in open_flags]
    previous = {}
    if new_keys:
        for row in in_shard.filter(status__in=CLOSED_STATUSES).values("indicator_id", "rule_id", "id"):
            key = (row["indicator_id"], row["rule_id"])
            previous[key] = max(previous.get(key, 0), row["id"])

    build = _row_builder(now)
    keys = list(breaches)
    flag_ids: dict[tuple[int, int], int] = {}
    chunk_size = _CHUNK if connection.vendor != "postgresql" else 10_000  # arrays: few parameters per chunk
    for start in range(0, len(keys), chunk_size):
        chunk = keys[start : start + chunk_size]
        returned = execute(*_upsert([build(breaches[key], previous.get(key)) for key in chunk]))
        flag_ids.update({(ind, rule): flag_id for flag_id, ind, rule in returned})

    events: list[Event] = []
    to_resume: list[int] = []
    for key, breach in breaches.items():
        old = open_flags.get(key)
        flag_id = flag_ids[key]
        if old is None:
            verb = Verb.FLAG_REGRESSED if key in previous else Verb.FLAG_DETECTED
            data = _detail(breach) | ({"previous_flag": previous[key]} if key in previous else {})
            events.append(_event(verb, flag_id, breach.indicator_id, "", FlagStatus.DETECTED, data, run_id))
            counts.opened += 1
            continue
        # A pinned severity stays as the person set it (the upsert's CASE does the same in the database).
        severity = old["severity"] if old["severity_pinned"] else breach.severity
        severity_changed = severity != old["severity"]
        if breach.value != old["value"] or severity_changed:
            data = _detail(breach) | {"severity": severity, "old_value": old["value"], "old_severity": old["severity"]}
            events.append(_event(Verb.FLAG_REDETECTED, flag_id, breach.indicator_id, "", "", data, run_id))
            counts.updated += 1
        if (
            old["status"] == FlagStatus.MONITORING
            and breach.severity == Severity.RED
            and old["severity"] != Severity.RED
        ):
            to_resume.append(flag_id)

    recovered = [
        flag
        for key, flag in open_flags.items()
        if key in evaluation.evaluated and key not in breaches and flag["recovered_at"] is None
    ]
    if recovered:
        ids = [f["id"] for f in recovered]
        for start in range(0, len(ids), _CHUNK * 10):  # IN lists within SQLite's parameter limit
            Flag.objects.filter(id__in=ids[start : start + _CHUNK * 10]).update(recovered_at=now, updated_at=now)
        for flag in recovered:
            data = {"rule": flag["rule_id"], "last_value": flag["value"]}
            events.append(_event(Verb.FLAG_RECOVERED, flag["id"], flag["indicator_id"], "", "", data, run_id))
        counts.recovered = len(recovered)

    event_record_many(events)
    _notify_new_red_flags(events)
    for flag_id in to_resume:
        flag_resume(flag=Flag(pk=flag_id), actor=None, system=SYSTEM_LABEL, reason="the breach worsened to red")
        counts.resumed += 1
    return counts


def _notify_new_red_flags(events: list[Event]) -> None:
    """A new red flag is news for the agency's liaisons: queue its notifications for after commit (one task
    for the shard, not one per flag)."""
    hashes = [
        e.hash for e in events if e.verb in (Verb.FLAG_DETECTED, Verb.FLAG_REGRESSED) and e.data["severity"] == "red"
    ]
    if hashes:
        from ..tasks import notify_events

        ids = [
            pk
            for start in range(0, len(hashes), 500)  # IN lists within SQLite's parameter limit
            for pk in Event.objects.filter(hash__in=hashes[start : start + 500]).values_list("pk", flat=True)
        ]
        transaction.on_commit(lambda: notify_events.delay(ids))


def _event(verb, flag_id, indicator_id, from_status, to_status, data, run_id) -> Event:
    if run_id is not None:
        data["check_run"] = run_id
    return Event(
        verb=verb,
        actor_label=SYSTEM_LABEL,
        flag_id=flag_id,
        indicator_id=indicator_id,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )
