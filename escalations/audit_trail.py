"""The audit trail's rules: every audit verb, listed once, and the hash chain that makes a quiet change to a
stored event detectable. ``services.event_record`` appends; ``audit_chain_verify`` checks.

The chain alone cannot prove that nothing was cut from its end: the remaining events still link up. So its
head is checkpointed (``AuditCheckpoint``: the last event's id and hash and the number of events, signed),
and verification checks that the chain still reaches every checkpoint. The walk over the chain
(``chain_walk``) is shared by the database check and the offline check of an export file
(``escalations/audit_export.py``), so both apply the same rules."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.crypto import constant_time_compare, salted_hmac

if TYPE_CHECKING:
    from .models import AuditCheckpoint, Event

GENESIS_HASH = "0" * 64


class Verb(models.TextChoices):
    FLAG_CREATED = "flag.created", "Flag raised by a person"
    FLAG_DETECTED = "flag.detected", "Case opened by the check"
    FLAG_REDETECTED = "flag.redetected", "Signals changed"
    FLAG_RECOVERED = "flag.recovered", "Signals cleared"
    FLAG_REGRESSED = "flag.regressed", "Re-raised after a decision"
    FLAG_MERGED = "flag.merged", "Merged into one case"
    FLAG_OVERDUE = "flag.overdue", "Flag overdue"
    FLAG_REVIEWED = "flag.reviewed", "Review started"
    FLAG_ASSIGNED = "flag.assigned", "Assigned"
    FLAG_SEVERITY_SET = "flag.severity_set", "Severity set"
    FLAG_MONITORED = "flag.monitored", "Monitoring"
    FLAG_RESUMED = "flag.resumed", "Review resumed"
    FLAG_DISMISSED = "flag.dismissed", "Dismissed"
    FLAG_ESCALATED = "flag.escalated", "Escalated"
    FLAG_RETURNED = "flag.returned", "Returned"
    FLAG_DELEGATED = "flag.delegated", "Delegated to agency"
    FLAG_CONVERTED = "flag.converted", "Converted to project"
    FLAG_RESOLVED = "flag.resolved", "Resolved"
    FLAG_REOPENED = "flag.reopened", "Reopened"
    FLAG_NOTED = "flag.noted", "Note added"
    PROJECT_CREATED = "project.created", "Project created"
    PROJECT_UPDATED = "project.updated", "Project updated"
    PROJECT_COMPLETED = "project.completed", "Project completed"
    PROJECT_CANCELLED = "project.cancelled", "Project cancelled"
    MILESTONE_ADDED = "project.milestone_added", "Milestone added"
    MILESTONE_DONE = "project.milestone_done", "Milestone done"
    MILESTONE_UPDATED = "project.milestone_updated", "Milestone changed"
    AUDIT_CHAIN_BROKEN = "audit.chain_broken", "Audit chain broken"
    # Changes outside the flag lifecycle: configuration, reference data, roles, data, runs, sign-in.
    RULE_CREATED = "rule.created", "Rule added"
    RULE_UPDATED = "rule.updated", "Rule changed"
    RULE_ACTIVATED = "rule.activated", "Rule switched on"
    RULE_DEACTIVATED = "rule.deactivated", "Rule switched off"
    RULE_DELETED = "rule.deleted", "Rule deleted"
    INDICATOR_TUNED = "indicator.tuned", "Tolerance or weight changed"
    INDICATOR_UPDATED = "indicator.updated", "Indicator definition changed"
    INDICATOR_MERGED = "indicator.merged", "Indicators merged"
    AGENCY_CREATED = "agency.created", "Agency added"
    AGENCY_UPDATED = "agency.updated", "Agency changed"
    PORTFOLIO_CREATED = "portfolio.created", "Portfolio added"
    PORTFOLIO_UPDATED = "portfolio.updated", "Portfolio changed"
    ROLE_GRANTED = "role.granted", "Role granted"
    ROLE_REVOKED = "role.revoked", "Role revoked"
    SLA_POLICY_UPDATED = "sla.policy_updated", "SLA policy changed"
    CLOSURE_SAVED = "closure.saved", "Closure added or changed"
    CLOSURE_DELETED = "closure.deleted", "Closure removed"
    IMPORT_COMPLETED = "import.completed", "File imported"
    CHECK_RUN_STARTED = "check_run.started", "Check run started by hand"
    SIGNIN_LOCKED_OUT = "signin.locked_out", "Sign-in locked out"
    TOKEN_CREATED = "auth.token_created", "API token created"
    TOKEN_REVOKED = "auth.token_revoked", "API token revoked"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"


def json_safe(data: dict) -> dict:
    """``data`` as it will read back from the JSON column (decimals and dates become strings), so the hash
    computed before the insert equals the hash recomputed from the stored row: exactly
    ``json.loads(json.dumps(data, cls=DjangoJSONEncoder))``, without writing and parsing the text (a check shard
    converts thousands of events' data)."""
    converted = _json_value(data)
    if not isinstance(converted, dict):
        raise TypeError("an event's data is a JSON object")
    return converted


_ENCODER = DjangoJSONEncoder()
# Values JSON keeps as they are (looked up inline: most of an event's values are these).
_PLAIN = frozenset({str, int, bool, float, type(None)})
# Decimals and dates as the encoder writes them, without its chain of isinstance.
_AS_ENCODED: dict[type, Callable[[Any], str]] = {Decimal: str, date: date.isoformat}


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        if all(type(key) is str for key in value):
            return {key: item if type(item) in _PLAIN else _json_value(item) for key, item in value.items()}
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))  # keys JSON turns into text: its own rules
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN else _json_value(item) for item in value]
    convert = _AS_ENCODED.get(kind)
    if convert is not None:
        return convert(value)
    if isinstance(value, str):  # a choice (TextChoices), any str subclass: the text it holds
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return json.loads(json.dumps(value))
    if isinstance(value, dict | list | tuple):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return _json_value(_ENCODER.default(value))  # decimals, dates, times, UUIDs, lazy text; else TypeError


# The fields each event's hash covers, under the names an export file uses for them.
HASHED_FIELDS = (
    "prev_hash",
    "occurred_at",
    "actor_id",
    "actor_label",
    "verb",
    "flag_id",
    "project_id",
    "indicator_id",
    "from_status",
    "to_status",
    "data",
)


def canonical_json(content: dict[str, Any]) -> str:
    """The one serialisation that is hashed and signed: sorted keys, no spaces, UTF-8 left as it is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_iso(moment: datetime) -> str:
    """A moment exactly as hashed: UTC, microseconds, with its offset (``2026-11-30T08:30:00.123456+00:00``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_content(event: "Event") -> dict[str, Any]:
    """What an event's hash covers, in the exact form hashed; an export line is this plus ``id`` and ``hash``."""
    return content_of(
        prev_hash=event.prev_hash,
        occurred_at=utc_iso(event.occurred_at),
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        verb=event.verb,
        flag_id=event.flag_id,
        project_id=event.project_id,
        indicator_id=event.indicator_id,
        from_status=event.from_status,
        to_status=event.to_status,
        data=event.data,
    )


def content_of(
    *,
    prev_hash: str,
    occurred_at: str,
    actor_id: int | None,
    actor_label: str,
    verb: str,
    flag_id: int | None,
    project_id: int | None,
    indicator_id: int | None,
    from_status: str,
    to_status: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The hashed content of an event from its fields (``occurred_at`` as ``utc_iso`` writes it), for appends
    that build no ``Event`` object (a check shard's); the one list of what the hash covers."""
    return {
        "prev_hash": prev_hash,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "verb": verb,
        "flag_id": flag_id,
        "project_id": project_id,
        "indicator_id": indicator_id,
        "from_status": from_status,
        "to_status": to_status,
        "data": data,
    }


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def event_hash(event: "Event") -> str:
    """SHA-256 over the previous event's hash and this event's canonical content."""
    return content_hash(event_content(event))


@dataclass(frozen=True)
class ChainEntry:
    """One event as the chain sees it: its id, the content its hash covers, its stored hash, and (in a file)
    its line."""

    id: int
    content: dict[str, Any]
    hash: str
    line: int | None = None


@dataclass(frozen=True)
class Head:
    """A recorded head of the chain (a checkpoint): the chain must still hold ``last_event_id`` with this hash,
    preceded by ``event_count - 1`` events. ``label`` names it in a report."""

    last_event_id: int | None
    head_hash: str
    event_count: int
    label: str


@dataclass(frozen=True)
class ChainProblem:
    """Something wrong with the chain, in words. ``event_id`` is the event it is about (for a cut tail: the
    checkpointed event that is gone); ``line`` the line of an export file."""

    event_id: int | None
    problem: str
    line: int | None = None
    named: bool = False  # the words already name the event (a cut tail names the one that is gone)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        if self.event_id is not None and not self.named:
            where += f"event #{self.event_id}: "
        return where + self.problem


@dataclass
class ChainReport:
    """The outcome of a walk: the problems found (the first ``MAX_PROBLEMS`` kept, all counted) and the head
    the walk reached, which is what a checkpoint records when the chain holds."""

    MAX_PROBLEMS = 100

    problems: list[ChainProblem] = field(default_factory=list)
    problem_count: int = 0
    event_count: int = 0
    last_event_id: int | None = None
    head_hash: str = GENESIS_HASH
    heads_checked: int = 0

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: ChainProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(problem)


def chain_walk(entries: Iterable[ChainEntry], heads: Iterable[Head]) -> ChainReport:
    """Walk the chain in order and check each link, each hash, and that every recorded head is still in it.

    After a bad link the walk goes on from the stored hash, so one removed event is one problem, not a problem
    for every event after it. A head whose event is past the end of the chain means the tail was cut."""
    report = ChainReport()
    by_event: dict[int, list[Head]] = defaultdict(list)
    for head in heads:
        if head.last_event_id is not None:  # a checkpoint of an empty chain holds whatever follows
            by_event[head.last_event_id].append(head)
    report.heads_checked = sum(len(h) for h in by_event.values())
    for entry in entries:
        if entry.content["prev_hash"] != report.head_hash:
            report.add(
                ChainProblem(
                    entry.id,
                    "its previous-hash does not match the event before it (an event was removed or inserted)",
                    entry.line,
                )
            )
        if content_hash(entry.content) != entry.hash:
            report.add(
                ChainProblem(entry.id, "its content does not match its hash (the event was altered)", entry.line)
            )
        report.event_count += 1
        for head in by_event.pop(entry.id, []):
            _check_head(report, entry, head)
        report.last_event_id, report.head_hash = entry.id, entry.hash
    _report_unreached(report, [head for heads_of in by_event.values() for head in heads_of])
    return report


def _check_head(report: ChainReport, entry: ChainEntry, head: Head) -> None:
    """The walk reached ``head``'s event: it must have the recorded hash and the recorded number of events."""
    if entry.hash != head.head_hash:
        report.add(
            ChainProblem(
                entry.id, f"{head.label} recorded it with hash {head.head_hash}, the chain has {entry.hash}", entry.line
            )
        )
    elif report.event_count != head.event_count:
        report.add(
            ChainProblem(
                entry.id,
                f"{head.label} counted {head.event_count} events up to it, the chain has {report.event_count} "
                "(events were removed or inserted before it)",
                entry.line,
            )
        )


def _report_unreached(report: ChainReport, missing: list[Head]) -> None:
    """Heads whose event the walk never met: past its end (the tail was cut: named once, by the furthest
    head), or within it (that event was removed)."""
    end = report.last_event_id
    beyond = [head for head in missing if end is None or (head.last_event_id or 0) > end]
    if beyond:
        last = max(beyond, key=lambda head: (head.last_event_id or 0, head.event_count))
        ends = f"the chain ends at event #{end}" if end is not None else "the chain is empty"
        report.add(
            ChainProblem(
                last.last_event_id,
                f"{ends} but {last.label} recorded event #{last.last_event_id} with hash {last.head_hash} "
                f"({last.event_count} events): the events after it were removed",
                named=True,
            )
        )
    for head in sorted((h for h in missing if h not in beyond), key=lambda h: h.last_event_id or 0):
        report.add(
            ChainProblem(
                head.last_event_id,
                f"{head.label} recorded this event with hash {head.head_hash}, and it is no longer in the chain",
            )
        )


def audit_trail_walk(
    batch_size: int = 5000, tap: Callable[[ChainEntry], None] | None = None, also_reach: Iterable[Head] = ()
) -> ChainReport:
    """Walk the stored chain against the stored checkpoints, signatures included, and ``also_reach`` (an
    export's checkpoint, after a restore); ``tap`` sees each event on the way (the export writes it out, so
    the file holds exactly the events this walk verified).

    The checkpoints are read before the events: every checkpoint read then names an event committed before
    the walk's snapshot (one query), so an append racing with the walk cannot look like a cut tail."""
    from .models import AuditCheckpoint, Event

    checkpoints = list(AuditCheckpoint.objects.order_by("id"))

    def entries() -> Iterator[ChainEntry]:
        for event in Event.objects.order_by("id").iterator(chunk_size=batch_size):
            entry = ChainEntry(event.pk, event_content(event), event.hash)
            if tap is not None:
                tap(entry)
            yield entry

    report = chain_walk(entries(), [*(checkpoint_head(c) for c in checkpoints), *also_reach])
    for checkpoint in checkpoints:
        if not checkpoint_signature_valid(checkpoint_fields(checkpoint), checkpoint.signature):
            report.add(
                ChainProblem(
                    checkpoint.last_event_id,
                    f"{checkpoint_label(checkpoint)}: its signature does not match (the checkpoint was altered, "
                    "or PERCOLATE_AUDIT_KEY changed since it was written)",
                )
            )
    return report


def audit_chain_verify(batch_size: int = 5000) -> ChainProblem | None:
    """The first problem of the stored chain (links, hashes, checkpoints), or ``None`` when it holds."""
    report = audit_trail_walk(batch_size)
    return report.problems[0] if report.problems else None


# ---- checkpoints: the signed record of a head -------------------------------------------------------------

_SIGNATURE_SALT = "percolate.audit.checkpoint"


def checkpoint_fields(checkpoint: "AuditCheckpoint") -> dict[str, Any]:
    """What a checkpoint's signature covers, as an export file writes it."""
    return {
        "created_at": utc_iso(checkpoint.created_at),
        "source": checkpoint.source,
        "last_event_id": checkpoint.last_event_id,
        "head_hash": checkpoint.head_hash,
        "event_count": checkpoint.event_count,
    }


def checkpoint_signature(fields: dict[str, Any]) -> str:
    """HMAC-SHA256 of the canonical JSON of ``fields``, keyed by ``PERCOLATE_AUDIT_KEY`` (or, when that is
    empty, the ``SECRET_KEY``). Someone who can write the database but does not hold the key cannot make a
    checkpoint that matches a shortened chain."""
    key = settings.PERCOLATE_AUDIT_KEY or settings.SECRET_KEY
    return salted_hmac(_SIGNATURE_SALT, canonical_json(fields), secret=key, algorithm="sha256").hexdigest()


def checkpoint_signature_valid(fields: dict[str, Any], signature: str) -> bool:
    return constant_time_compare(checkpoint_signature(fields), signature)


def checkpoint_label(checkpoint: "AuditCheckpoint") -> str:
    return f"the checkpoint of {checkpoint.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC ({checkpoint.source})"


def checkpoint_head(checkpoint: "AuditCheckpoint") -> Head:
    return Head(checkpoint.last_event_id, checkpoint.head_hash, checkpoint.event_count, checkpoint_label(checkpoint))


def verb_label(verb: str) -> str:
    return Verb(verb).label if verb in Verb.values else verb
