"""Appending to the audit trail, checking its hash chain, and checkpointing its head. Changes made by the
indicators app arrive through ``core.audit.changed`` (``change_record``, connected when the app is ready),
sign-in lock-outs through django-axes' ``user_locked_out`` (``signin_lockout_record``)."""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.errors import Conflict
from indicators.models import Indicator

from ..audit_trail import (
    GENESIS_HASH,
    ChainReport,
    Verb,
    audit_trail_walk,
    checkpoint_fields,
    checkpoint_signature,
    content_hash,
    content_of,
    event_hash,
    json_safe,
    utc_iso,
)
from ..models import AuditCheckpoint, Event, Flag, Project
from .bulk_insert import execute, insert_select
from .notifications import notify_later

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Any constant shared by every process: the key of the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK_KEY = 7_302_118_001


def _chain_head() -> str:
    """Take the chain lock (until commit) and return the hash to chain onto."""
    if not connection.in_atomic_block:
        raise RuntimeError("events must be recorded inside the transaction of the change they record")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    return Event.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH


def event_record(
    *,
    verb: str,
    actor: "User | None" = None,
    actor_label: str = "",
    flag: Flag | None = None,
    project: Project | None = None,
    indicator: Indicator | None = None,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the chain. Must run inside the transaction of the change it records.

    On PostgreSQL a transaction-scoped advisory lock serialises appends, so two concurrent transactions can
    never both chain onto the same previous event (which would fork the chain); SQLite serialises writers
    anyway. The lock is held until commit, which keeps id order and chain order the same."""
    prev_hash = _chain_head()
    if indicator is None and flag is not None:
        indicator = flag.indicator
    event = Event(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label="" if actor is not None else (actor_label or "system"),
        verb=verb,
        flag=flag,
        project=project,
        indicator=indicator,
        from_status=from_status,
        to_status=to_status,
        data=json_safe(data or {}),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append in bulk (``event_record_many``): the fields a system change sets, no model object."""

    verb: str
    indicator_id: int | None
    flag_id: int | None = None
    actor_label: str = ""
    from_status: str = ""
    to_status: str = ""
    data: dict[str, Any] = field(default_factory=dict)


_EVENT_COLUMNS = [f.attname for f in Event._meta.concrete_fields if not f.primary_key]


def event_record_many(events: Sequence[NewEvent]) -> list[int]:
    """Append many events at once, in order, with no actor (a system change): the batch variant of
    ``event_record`` for the nightly check, which may open thousands of cases in one shard. Same lock, same
    chain: each event's ``prev_hash`` is the previous one's hash, computed here in order, then one multi-row
    insert per chunk. The lock is held until commit, so no other append can slip between them. No model
    object and no JSON round trip per event: the content is hashed from the fields as ``event_content`` lists
    them, ``data`` made JSON-safe without a round trip (``json_safe``). Returns the new events' ids, in order."""
    if not events:
        return []
    prev_hash = _chain_head()
    now = timezone.now()
    occurred_at = utc_iso(now)
    postgres = connection.vendor == "postgresql"
    rows: list[list[Any]] = []
    digests: list[str] = []
    for event in events:
        data = json_safe(event.data)
        label = event.actor_label or "system"
        content = content_of(
            prev_hash=prev_hash,
            occurred_at=occurred_at,
            actor_id=None,
            actor_label=label,
            verb=event.verb,
            flag_id=event.flag_id,
            project_id=None,
            indicator_id=event.indicator_id,
            from_status=event.from_status,
            to_status=event.to_status,
            data=data,
        )
        digest = content_hash(content)
        fields = {
            **content,
            "occurred_at": now,
            # PostgreSQL reads the JSON column from text in the array insert; SQLite's binding encodes the dict.
            "data": json.dumps(data, ensure_ascii=False) if postgres else data,
            "hash": digest,
        }
        rows.append([fields[name] for name in _EVENT_COLUMNS])
        digests.append(digest)
        prev_hash = digest
    # One INSERT per chunk, chunks and rows in order: ids rise in chain order, which is the order
    # ``audit_chain_verify`` walks.
    ids: dict[str, int] = {}
    chunk_size = 1000 if not postgres else 20_000
    q = connection.ops.quote_name
    for start in range(0, len(rows), chunk_size):
        sql, params = insert_select(Event, _EVENT_COLUMNS, rows[start : start + chunk_size])
        ids.update({digest: pk for pk, digest in execute(f"{sql} RETURNING {q('id')}, {q('hash')}", params)})
    return [ids[digest] for digest in digests]


# What wrote a checkpoint, as ``AuditCheckpoint.source`` records it.
CHECKPOINT_NIGHTLY = "nightly verification"
CHECKPOINT_EXPORT = "export_audit"


def audit_checkpoint_build(*, report: ChainReport, source: str) -> AuditCheckpoint:
    """The signed checkpoint of the head ``report`` reached, not saved: an export writes it into its file even
    when the chain it exported is broken (the file is evidence), but only ``audit_checkpoint_record`` stores
    one."""
    checkpoint = AuditCheckpoint(
        created_at=timezone.now(),
        source=source,
        last_event_id=report.last_event_id,
        head_hash=report.head_hash,
        event_count=report.event_count,
    )
    checkpoint.signature = checkpoint_signature(checkpoint_fields(checkpoint))
    return checkpoint


def audit_checkpoint_record(*, report: ChainReport, source: str) -> AuditCheckpoint:
    """Store the head a verification walk reached as a checkpoint; from then on the chain must reach it, so a
    cut tail is detected. Refuses (``Conflict``) a walk that found problems: a checkpoint vouches for the
    chain up to its head.

    Writes no ``Event``, unlike every other write: a checkpoint is a record about the chain, not a change of
    the data it records, and an event would move the very head it records. Safe to repeat: another checkpoint
    of the same head asks nothing new of the chain."""
    if not report.intact:
        raise Conflict(f"the audit chain is broken ({report.problems[0]}); no checkpoint was recorded")
    checkpoint = audit_checkpoint_build(report=report, source=source)
    checkpoint.save(force_insert=True)
    return checkpoint


def audit_chain_check() -> Event | None:
    """The nightly verification: walk the chain against its checkpoints. When it holds, checkpoint its head
    (``audit_checkpoint_record``). When it is broken, record one ``audit.chain_broken`` alert (system actor)
    naming the first problem and notify the admins after commit; the same break is reported once, however
    often this runs. Returns the alert event, or ``None`` when the chain holds or the break was reported."""
    report = audit_trail_walk()
    if report.intact:
        audit_checkpoint_record(report=report, source=CHECKPOINT_NIGHTLY)
        return None
    bad = report.problems[0]
    if Event.objects.filter(verb=Verb.AUDIT_CHAIN_BROKEN, data__event=bad.event_id).exists():
        return None
    with transaction.atomic():
        alert = event_record(
            verb=Verb.AUDIT_CHAIN_BROKEN,
            actor_label="audit check",
            data={"event": bad.event_id, "problem": bad.problem},
        )
        notify_later(alert)
    return alert


def change_record(
    sender: object,
    *,
    verb: str,
    actor: "User | None",
    actor_label: str,
    indicator: Indicator | None,
    data: dict[str, Any],
    **kwargs: Any,
) -> None:
    """The receiver of ``core.audit.changed``: append the change's event inside the sender's transaction (an
    unknown verb is a programming error: every verb is listed once, in ``Verb``)."""
    if verb not in Verb.values:
        raise ValueError(f"{verb!r} is not an audit verb (add it to escalations.audit_trail.Verb)")
    event_record(verb=verb, actor=actor, actor_label=actor_label, indicator=indicator, data=data)


def signin_lockout_record(*, username: str, ip_address: str | None) -> Event | None:
    """Record that sign-in is locked for ``username`` from ``ip_address`` (``signin.locked_out``, no actor:
    nobody is signed in). django-axes reports the lock-out again on every attempt while it lasts; one event
    per lock-out is enough, so a repeat within the cool-off time writes nothing (returns ``None``)."""
    cooloff = settings.AXES_COOLOFF_TIME
    since = timezone.now() - (cooloff if isinstance(cooloff, dt.timedelta) else dt.timedelta(hours=1))
    username, ip_address = (username or "")[:150], ip_address or ""
    with transaction.atomic():
        recorded = Event.objects.filter(
            verb=Verb.SIGNIN_LOCKED_OUT, occurred_at__gte=since, data__username=username, data__ip=ip_address
        )
        if recorded.exists():
            return None
        return event_record(
            verb=Verb.SIGNIN_LOCKED_OUT, actor_label="sign-in", data={"username": username, "ip": ip_address}
        )
