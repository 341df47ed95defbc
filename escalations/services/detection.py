"""Turning the detection engine's breaches into cases and their signals.

One open case per (indicator, category); each breaching rule is a signal of it.

- A breach of an indicator without an open case opens one (``flag.detected``), unless the latest closed case
  of that indicator and category already decided on the same thing: then nothing is written. When it is news
  (``signals.reraise_reason``: a later period, a restated value, a material worsening) the new case is
  linked to the closed one and says why (``flag.regressed``).
- A worked case (every open status but monitoring) follows the data: its signals are upserted, a signal whose
  rule no longer breaches is cleared, the case's severity follows its worst active signal unless a person
  pinned it; one ``flag.redetected`` (something new or changed) or ``flag.recovered`` (signals cleared only;
  all cleared is recorded on the case, which stays open for a person) per case that changed.
- A monitored case keeps its signals as the monitoring decision saw them; when a breach is news it resumes
  review (``flag.resumed`` with the reason) and then follows the data; cleared signals are recorded.
- Every indicator whose rules were all evaluated gets its colour (``indicator_rag_record``): what the check
  measured, whatever the triage status.

The writes are set-based: one ``INSERT … ON CONFLICT (indicator_id, category) WHERE <open> DO UPDATE`` for
the cases and one ``INSERT … ON CONFLICT (flag_id, rule_id) DO UPDATE`` for the signals per chunk (rows as
arrays on PostgreSQL, see ``bulk``), one ``UPDATE`` for cleared signals, one multi-row insert of the events.
A re-run on unchanged data writes no event."""

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, TypeVar

from django.db import connection, models
from django.db.models import QuerySet
from django.utils import timezone

from indicators.detection import Breach, Evaluation, sparse_ids
from indicators.detection.rules import AS_OF_KINDS
from indicators.models import DATA_QUALITY_KINDS, Indicator
from indicators.services.status import indicator_rag_record

from .. import deadlines
from ..audit_trail import Verb
from ..case_signals import SEVERITY_RANK, reraise_reason
from ..lifecycle import CLOSED_STATUSES, OPEN_STATUSES, FlagStatus, Severity
from ..models import Flag, FlagCategory, FlagOrigin, Signal
from ..priority import beyond_threshold
from .bulk_insert import execute, insert_select
from .events import NewEvent, event_record_many

SYSTEM_LABEL = "nightly check"
_CHUNK = 500  # rows per upsert statement on SQLite: ~20 parameters a row stays far below its 32,766
_Row = TypeVar("_Row")


def flag_category(kind: str) -> str:
    """The queue a rule kind's signals go to: the one place the category is derived from the kind."""
    return FlagCategory.DATA_QUALITY if kind in DATA_QUALITY_KINDS else FlagCategory.PERFORMANCE


@dataclass
class DetectionCounts:
    opened: int = 0
    updated: int = 0
    recovered: int = 0
    resumed: int = 0


class _OpenCase(TypedDict):
    """An open case of the shard, as its locked row is read."""

    id: int
    indicator_id: int
    category: str
    status: str
    severity: str
    severity_pinned: bool
    recovered_at: dt.datetime | None


class _SeenSignal(TypedDict):
    """A signal of a case as it stands (for a closed or monitored case: as the decision saw it)."""

    flag_id: int
    id: int
    rule_id: int
    period: dt.date
    value: Decimal | None
    baseline: Decimal | None
    measure: Decimal | None
    unit: str
    severity: str
    yellow: Decimal | None
    red: Decimal | None
    cleared_at: dt.datetime | None


class _ClosedCase(TypedDict):
    """The latest closed case of an (indicator, category), with its signals by rule id."""

    id: int
    indicator_id: int
    category: str
    severity: str
    signals: dict[int, _SeenSignal]


class _CaseRow(TypedDict):
    """A case's upsert row: a new case (its ``id`` is set once written) or a changed open one."""

    id: NotRequired[int]
    indicator_id: int
    category: str
    severity: str
    beyond: Decimal | None
    recovered_at: dt.datetime | None
    previous_flag_id: int | None
    reraise_reason: str
    due_at: dt.datetime | None


class _CaseRef(TypedDict):
    """An open case whose breaches were seen again unchanged: only its signals' upsert needs it."""

    id: int


@dataclass
class _Case:
    """One (indicator, category) of the shard: its open case (if any) and what this check found."""

    indicator_id: int
    category: str
    breaches: list[Breach] = field(default_factory=list)
    evaluated: set[int] = field(default_factory=set)  # rule ids evaluated for it (read for an open case only)
    open: _OpenCase | None = None
    signals: dict[int, _SeenSignal] = field(default_factory=dict)  # rule id → the open case's signal

    @property
    def existing(self) -> _OpenCase:
        """The open case, for an (indicator, category) that has one (worked and monitored cases)."""
        if self.open is None:
            raise ValueError(f"indicator #{self.indicator_id} has no open {self.category} case")
        return self.open


def _detail(breach: Breach) -> dict[str, Any]:
    return {
        "rule": breach.rule_id,
        "kind": breach.kind,
        "period": breach.period,
        "value": breach.value,
        "baseline": breach.baseline,
        "measure": breach.measure,
        "unit": breach.unit,
        "red": breach.red,
        "severity": breach.severity,
        "preliminary": breach.preliminary,
    }


def _changed(breach: Breach, signal: Mapping[str, object] | None) -> bool:
    if signal is None or signal["cleared_at"] is not None:
        return True
    return any(getattr(breach, name) != signal[name] for name in ("period", "value", "baseline", "measure", "severity"))


def _worst(severities: Iterable[str]) -> str | None:
    return max(severities, key=SEVERITY_RANK.__getitem__, default=None)


def dated_watch(*, lo_id: int, hi_id: int) -> list[int]:
    """The indicators of a range with an open case in the queue of the date-dependent rules (reporting gaps): a
    dated shard's evaluation reports their pairs whatever it finds, so that a signal that stopped breaching
    clears (``evaluate(dated_only=True, watch=…)``)."""
    categories = {flag_category(kind) for kind in AS_OF_KINDS}
    return list(
        Flag.objects.filter(
            indicator_id__gte=lo_id, indicator_id__lt=hi_id, category__in=categories, status__in=OPEN_STATUSES
        ).values_list("indicator_id", flat=True)
    )


def flags_apply_evaluation(
    *, evaluation: Evaluation, lo_id: int, hi_id: int, run_id: int | None = None
) -> DetectionCounts:
    """Apply one shard's evaluation (indicators ``lo_id <= id < hi_id``) to the cases. Must run inside the
    caller's transaction, which it extends with row locks on the shard's open cases and the audit-chain lock.

    Statuses: opens cases as ``detected``; never changes an open case's status, except monitoring →
    in_review (``flag_resume``, event ``flag.resumed``) when a breach is news (see ``signals``). Events: one
    per case opened (``flag.detected`` / ``flag.regressed``), changed (``flag.redetected``) or with cleared
    signals only (``flag.recovered``), actor system "nightly check". After commit, the liaisons of the
    agencies of new red cases are notified. Safe to repeat: a second application of the same evaluation
    writes no event and changes no status."""
    counts = DetectionCounts()
    now = timezone.now()
    indicator_rag_record(
        checked=evaluation.checked,
        breaches=[(b.indicator_id, b.severity) for b in evaluation.breaches if b.kind not in DATA_QUALITY_KINDS],
        now=now,
    )
    categories = {rule_id: flag_category(kind) for rule_id, kind in evaluation.kinds.items()}
    cases = _breach_cases(evaluation, categories)
    evaluated = evaluation.evaluated.keys() | {key[0] for key in cases}
    if not evaluated:
        return counts
    shard = Flag.objects.filter(indicator_id__gte=lo_id, indicator_id__lt=hi_id)
    ids = sparse_ids(evaluated, lo_id, hi_id)
    if ids is not None:  # a few changed indicators of a wide range: only their cases
        shard = shard.filter(indicator_id__in=ids)
    # Only the categories of the rules evaluated (a reporting-gap shard's data-quality cases, not every open
    # performance case of its hundred thousand indicators) are locked and read.
    evaluated_categories = {categories[rule_id] for rule_id in set().union(*evaluation.evaluated.values())}
    _read_open_cases(shard.filter(category__in=evaluated_categories), cases, categories, evaluation)
    by_flag = {case.open["id"]: case for case in cases.values() if case.open}
    for signal in _signals_of(by_flag):
        by_flag[signal["flag_id"]].signals[signal["rule_id"]] = signal

    # Cases to open: every breaching (indicator, category) without an open case, unless its latest closed case
    # decided on the same thing.
    to_open = [case for case in cases.values() if case.open is None and case.breaches]
    decided = _decided(shard, to_open)
    indicators = _indicators({case.indicator_id for case in to_open if (case.indicator_id, case.category) in decided})
    indicators |= _indicators(
        {case.indicator_id for case in by_flag.values() if case.existing["status"] == FlagStatus.MONITORING}
    )

    plan = _Plan(now=now, run_id=run_id)
    for case in cases.values():
        if case.open is None:
            if case.breaches:
                plan.open_case(case, decided.get((case.indicator_id, case.category)), indicators)
        elif case.open["status"] == FlagStatus.MONITORING:
            plan.monitored_case(case, indicators[case.indicator_id])
        else:
            plan.worked_case(case)
    plan.write()
    counts.opened = len(plan.new_cases)
    counts.updated = sum(1 for e in plan.events if e.verb == Verb.FLAG_REDETECTED) + len(plan.to_resume)
    counts.recovered = sum(1 for e in plan.events if e.verb == Verb.FLAG_RECOVERED)
    counts.resumed = len(plan.to_resume)
    return counts


def _read_open_cases(
    shard: QuerySet[Flag], cases: dict[tuple[int, str], _Case], categories: Mapping[int, str], evaluation: Evaluation
) -> None:
    """Lock the shard's open cases: a person's action on one of them waits for this transaction, and then sees
    what detection wrote. An open case the check has something to say about (a breach, or a rule of its
    category evaluated) joins ``cases`` and learns which of its rules were evaluated."""
    for row in (
        shard.filter(status__in=OPEN_STATUSES)
        .select_for_update()
        .values("id", "indicator_id", "category", "status", "severity", "severity_pinned", "recovered_at")
    ):
        key = (row["indicator_id"], row["category"])
        its = evaluation.evaluated.get(row["indicator_id"], set())
        rules = {rule_id for rule_id in its if categories[rule_id] == row["category"]}
        case = cases.get(key)
        if case is None:
            if not rules:
                continue
            case = cases[key] = _Case(*key)
        case.open, case.evaluated = row, rules


def _breach_cases(evaluation: Evaluation, categories: Mapping[int, str]) -> dict[tuple[int, str], _Case]:
    """The (indicator, category) pairs with a breach, with their breaches (the open cases the check has
    something else to say about are added as the shard's open cases are read)."""
    cases: dict[tuple[int, str], _Case] = {}
    for breach in {(b.indicator_id, b.rule_id): b for b in evaluation.breaches}.values():
        key = (breach.indicator_id, categories[breach.rule_id])
        case = cases.get(key)
        if case is None:
            case = cases[key] = _Case(*key)
        case.breaches.append(breach)
    return cases


def _in_chunks(ids: list[int], size: int = _CHUNK * 10) -> Iterator[list[int]]:
    # IN lists within SQLite's parameter limit
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _signals_of(flag_ids: Iterable[int]) -> list[_SeenSignal]:
    ids = sorted(flag_ids)
    return [
        row
        for chunk in _in_chunks(ids)
        for row in Signal.objects.filter(flag_id__in=chunk)
        .values(
            "flag_id",
            "id",
            "rule_id",
            "period",
            "value",
            "baseline",
            "measure",
            "unit",
            "severity",
            "yellow",
            "red",
            "cleared_at",
        )
        .order_by()
    ]


def _decided(shard: QuerySet[Flag], to_open: list[_Case]) -> dict[tuple[int, str], _ClosedCase]:
    """The latest closed case of each (indicator, category) about to be opened, with its signals as the
    decision saw them (``signals``)."""
    if not to_open:
        return {}
    wanted = {(case.indicator_id, case.category) for case in to_open}
    latest: dict[tuple[int, str], _ClosedCase] = {}
    closed = shard.filter(status__in=CLOSED_STATUSES, indicator_id__in={key[0] for key in wanted})
    if len(wanted) > _CHUNK * 10:  # too many for an IN list: read the shard's closed cases
        closed = shard.filter(status__in=CLOSED_STATUSES)
    for row in closed.values("id", "indicator_id", "category", "severity").order_by("id"):
        key = (row["indicator_id"], row["category"])
        if key in wanted:
            latest[key] = {**row, "signals": {}}
    by_id = {row["id"]: row for row in latest.values()}
    for signal in _signals_of(by_id):
        by_id[signal["flag_id"]]["signals"][signal["rule_id"]] = signal
    return latest


def _indicators(ids: set[int]) -> dict[int, Indicator]:
    """The indicators whose words a re-raise needs (frequency, measurement type)."""
    found: dict[int, Indicator] = {}
    for chunk in _in_chunks(sorted(ids)):
        found.update(Indicator.objects.only("id", "frequency", "measurement_type").in_bulk(chunk))
    return found


class _Plan:
    """What the shard writes, gathered case by case and then written set-based (``write``)."""

    def __init__(self, *, now: dt.datetime, run_id: int | None) -> None:
        self.now, self.run_id = now, run_id
        self.case_rows: list[_CaseRow] = []  # the cases' upsert rows (new and changed ones)
        self.signal_rows: list[tuple[_CaseRow | _CaseRef, Breach]] = []  # (case row, breach) to upsert as signals
        self.cleared: list[int] = []  # signal ids
        self.events: list[NewEvent] = []
        # (case row, verb, to_status, data)
        self.pending_events: list[tuple[_CaseRow, str, str, dict[str, Any]]] = []
        self.new_cases: list[_CaseRow] = []
        self.to_resume: list[tuple[_CaseRow, str, dict[str, Any]]] = []  # (case row, reason, detail)
        # The review deadline of a new case depends only on its severity (and on when it was detected).
        self.due: dict[str, dt.datetime | None] = {
            s: deadlines.due_at_for(status=FlagStatus.DETECTED, severity=s, since=now) for s in Severity
        }

    # --- deciding, case by case ------------------------------------------------------------------------

    def open_case(self, case: _Case, previous: _ClosedCase | None, indicators: dict[int, Indicator]) -> None:
        reason = ""
        if previous is not None:
            reasons = [
                r
                for b in case.breaches
                if (r := reraise_reason(b, previous["signals"], previous["severity"], indicators[case.indicator_id]))
            ]
            if not reasons:
                return  # the decision sticks: the same thing, seen again
            reason = "; ".join(dict.fromkeys(reasons))
        severity = _worst(b.severity for b in case.breaches)
        if severity is None:
            raise ValueError("a case is opened for its breaches: it has at least one")
        row: _CaseRow = {
            "indicator_id": case.indicator_id,
            "category": case.category,
            "severity": severity,
            "beyond": _beyond(case.breaches),
            "recovered_at": None,
            "previous_flag_id": previous["id"] if previous else None,
            "reraise_reason": reason,
            "due_at": self.due[severity],
        }
        self.case_rows.append(row)
        self.new_cases.append(row)
        self.signal_rows += [(row, b) for b in case.breaches]
        data: dict[str, Any] = {"signals": [_detail(b) for b in case.breaches], "severity": severity}
        if previous is not None:
            data |= {"previous_flag": previous["id"], "reason": reason}
        verb = Verb.FLAG_REGRESSED if previous is not None else Verb.FLAG_DETECTED
        self.pending_events.append((row, verb, FlagStatus.DETECTED, data))

    def monitored_case(self, case: _Case, indicator: Indicator) -> None:
        active = {rule: s for rule, s in case.signals.items() if s["cleared_at"] is None}
        reasons = [
            r for b in case.breaches if (r := reraise_reason(b, case.signals, case.existing["severity"], indicator))
        ]
        if reasons:
            reason = "; ".join(dict.fromkeys(reasons))
            row, detail = self._follow(case)
            self.to_resume.append((row, reason, detail))
            return
        # The monitoring decision stands: only cleared signals are news (good news), recorded on the case.
        cleared = [s for rule, s in active.items() if rule in case.evaluated and rule not in _rules(case.breaches)]
        if cleared:
            self._clear_only(case, cleared, active)

    def worked_case(self, case: _Case) -> None:
        breaching = _rules(case.breaches)
        active = {rule: s for rule, s in case.signals.items() if s["cleared_at"] is None}
        changed = [b for b in case.breaches if _changed(b, case.signals.get(b.rule_id))]
        cleared = [s for rule, s in active.items() if rule in case.evaluated and rule not in breaching]
        if changed:
            row, detail = self._follow(case)
            self.pending_events.append((row, Verb.FLAG_REDETECTED, "", detail))
            return
        if cleared:
            self._clear_only(case, cleared, active)
        # Breaches seen again unchanged: their signals' "last seen" moves, nothing else (and no event).
        self.signal_rows += [({"id": case.existing["id"]}, b) for b in case.breaches]

    def _follow(self, case: _Case) -> tuple[_CaseRow, dict[str, Any]]:
        """The case takes what the check measured: its breaches become its signals, the others of the
        evaluated rules clear. Returns its upsert row and the event detail."""
        breaching = _rules(case.breaches)
        active = {rule: s for rule, s in case.signals.items() if s["cleared_at"] is None}
        cleared = [s for rule, s in active.items() if rule in case.evaluated and rule not in breaching]
        remaining = [s for rule, s in active.items() if rule not in case.evaluated and rule not in breaching]
        row = self._case_row(case, case.breaches, remaining)
        self.signal_rows += [(row, b) for b in case.breaches]
        self.cleared += [s["id"] for s in cleared]
        changed = [b for b in case.breaches if _changed(b, case.signals.get(b.rule_id))]
        detail = {
            "signals": [_detail(b) for b in changed],
            "cleared": [s["rule_id"] for s in cleared],
            "severity": row["severity"],
            "old_severity": case.existing["severity"],
        }
        return row, detail

    def _clear_only(self, case: _Case, cleared: list[_SeenSignal], active: dict[int, _SeenSignal]) -> None:
        remaining = [s for s in active.values() if s not in cleared]
        row = self._case_row(case, [], remaining)
        self.cleared += [s["id"] for s in cleared]
        detail = {
            "cleared": [s["rule_id"] for s in cleared],
            "all_clear": not remaining,
            "severity": row["severity"],
            "old_severity": case.existing["severity"],
        }
        self.pending_events.append((row, Verb.FLAG_RECOVERED, "", detail))

    def _case_row(self, case: _Case, breaches: list[Breach], remaining: list[_SeenSignal]) -> _CaseRow:
        """The open case's new severity, distance beyond its thresholds and recovery, from the signals it
        keeps: this check's breaches and the active signals of rules it did not evaluate."""
        open_case = case.existing
        worst = _worst([b.severity for b in breaches] + [s["severity"] for s in remaining])
        severity = open_case["severity"] if open_case["severity_pinned"] or worst is None else worst
        all_clear = not breaches and not remaining
        row: _CaseRow = {
            "id": open_case["id"],
            "indicator_id": case.indicator_id,
            "category": case.category,
            "severity": severity,
            "beyond": _beyond(breaches, remaining),
            "recovered_at": (open_case["recovered_at"] or self.now) if all_clear else None,
            "previous_flag_id": None,
            "reraise_reason": "",
            "due_at": None,
        }
        self.case_rows.append(row)
        return row

    # --- writing ------------------------------------------------------------------------------------------

    def write(self) -> None:
        from .flags import flag_resume

        ids = _upsert_cases(self.case_rows, self.now)
        for row in self.case_rows:
            row["id"] = ids[(row["indicator_id"], row["category"])]
        _upsert_signals(self.signal_rows, self.now)
        for chunk in _in_chunks(self.cleared):
            Signal.objects.filter(id__in=chunk).update(cleared_at=self.now)
        for row, verb, to_status, data in self.pending_events:
            if self.run_id is not None:
                data["check_run"] = self.run_id
            self.events.append(
                NewEvent(
                    verb=verb,
                    actor_label=SYSTEM_LABEL,
                    flag_id=row["id"],
                    indicator_id=row["indicator_id"],
                    to_status=to_status,
                    data=data,
                )
            )
        event_ids = event_record_many(self.events)
        _notify_new_red_cases(list(zip(self.events, event_ids, strict=True)))
        for row, reason, detail in self.to_resume:
            flag_resume(flag=Flag(pk=row["id"]), actor=None, system=SYSTEM_LABEL, reason=reason, detail=detail)


def _rules(breaches: list[Breach]) -> set[int]:
    return {b.rule_id for b in breaches}


def _beyond(breaches: list[Breach], signals: Sequence[_SeenSignal] = ()) -> Decimal | None:
    ratios = [beyond_threshold(b.measure, b.yellow) for b in breaches]
    ratios += [beyond_threshold(s["measure"], s["yellow"]) for s in signals]
    return max((r for r in ratios if r is not None), default=None)


# --- the two upserts -------------------------------------------------------------------------------------

_CASE_FIELDS = [f for f in Flag._meta.concrete_fields if not f.primary_key]
_CASE_COLUMNS = [f.attname for f in _CASE_FIELDS]
_SIGNAL_COLUMNS = [f.attname for f in Signal._meta.concrete_fields if not f.primary_key]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    updates: list[str],
    returning: str,
) -> tuple[str, list[Any]]:
    insert, params = insert_select(model, columns, rows)
    # SQLite reads "INSERT … SELECT … ON" as a join unless the SELECT has a WHERE; PostgreSQL needs none.
    where = "" if connection.vendor == "postgresql" or "SELECT" not in insert else " WHERE true"
    sql = f"{insert}{where} ON CONFLICT {conflict} DO UPDATE SET {', '.join(updates)} RETURNING {returning}"
    return sql, params


def _chunks(rows: list[_Row]) -> Iterator[list[_Row]]:
    size = _CHUNK if connection.vendor != "postgresql" else 10_000  # arrays: few parameters per chunk
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _upsert_cases(rows: list[_CaseRow], now: dt.datetime) -> dict[tuple[int, str], int]:
    """Insert the new cases and update the changed open ones in one statement per chunk; returns the ids by
    (indicator, category)."""
    constant: dict[str, object] = {
        "origin": FlagOrigin.AUTOMATED,
        "status": FlagStatus.DETECTED,
        "severity_pinned": False,
        "detected_at": now,
        "updated_at": now,
    }
    defaults = {f.attname: constant.get(f.attname, f.get_default()) for f in _CASE_FIELDS}
    table = _q(Flag._meta.db_table)
    # Literal statuses, written exactly as the partial index's predicate, so that both PostgreSQL and SQLite
    # infer the index ``flag_one_open_case_per_indicator_category`` as the conflict target.
    open_list = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    conflict = f"({_q('indicator_id')}, {_q('category')}) WHERE {_q('status')} IN ({open_list})"
    updates = [f"{_q(c)} = excluded.{_q(c)}" for c in ("beyond", "recovered_at", "updated_at")] + [
        # A pinned severity stays as the person set it.
        (
            f"{_q('severity')} = CASE WHEN {table}.{_q('severity_pinned')} THEN {table}.{_q('severity')} "
            f"ELSE excluded.{_q('severity')} END"
        ),
    ]
    ids: dict[tuple[int, str], int] = {}
    for chunk in _chunks(rows):
        values = [[{**defaults, **row}.get(name) for name in _CASE_COLUMNS] for row in chunk]
        returned = execute(
            *_upsert(
                Flag, _CASE_COLUMNS, values, conflict, updates, f"{_q('id')}, {_q('indicator_id')}, {_q('category')}"
            )
        )
        ids.update({(indicator_id, category): pk for pk, indicator_id, category in returned})
    return ids


def _upsert_signals(rows: list[tuple[_CaseRow | _CaseRef, Breach]], now: dt.datetime) -> None:
    conflict = f"({_q('flag_id')}, {_q('rule_id')})"
    refreshed: tuple[str, ...] = ("period", "value", "baseline", "change", "measure", "unit", "yellow", "red")
    refreshed += ("severity", "preliminary", "last_seen_at", "cleared_at")
    updates = [f"{_q(c)} = excluded.{_q(c)}" for c in refreshed]
    for chunk in _chunks(rows):
        values: list[list[Any]] = []
        for case, b in chunk:
            row = {
                "flag_id": case["id"],
                "rule_id": b.rule_id,
                "period": b.period,
                "value": b.value,
                "baseline": b.baseline,
                "change": b.change,
                "measure": b.measure,
                "unit": b.unit,
                "yellow": b.yellow,
                "red": b.red,
                "severity": b.severity,
                "preliminary": b.preliminary,
                "first_seen_at": now,
                "last_seen_at": now,
                "cleared_at": None,
            }
            values.append([row[name] for name in _SIGNAL_COLUMNS])
        execute(*_upsert(Signal, _SIGNAL_COLUMNS, values, conflict, updates, _q("id")))


def _notify_new_red_cases(events: list[tuple[NewEvent, int]]) -> None:
    """A new red case is news for its agency's liaisons: owe their notifications, in the shard's transaction
    (one outbox message for the shard, not one per case) — and nothing at all for the cases of agencies without
    an active liaison (nobody would be told; the check opens thousands of cases in agencies nobody follows)."""
    red = [
        (e.indicator_id, pk)
        for e, pk in events
        if e.verb in (Verb.FLAG_DETECTED, Verb.FLAG_REGRESSED)
        and e.data["severity"] == "red"
        and e.indicator_id is not None
    ]
    if not red:
        return
    from django.contrib.auth import get_user_model

    from core.permissions import Role, holders

    from .notifications import notify_later_many

    followed = set(
        get_user_model()
        .objects.filter(holders(Role.LIAISON), is_active=True, agencies__isnull=False)
        .values_list("agencies", flat=True)
    )
    if not followed:
        return
    agency_of: dict[int, int] = {}
    for chunk in _in_chunks(sorted({indicator_id for indicator_id, _pk in red})):
        agency_of.update(Indicator.objects.filter(pk__in=chunk).values_list("pk", "agency_id"))
    notify_later_many([pk for indicator_id, pk in red if agency_of.get(indicator_id) in followed])
