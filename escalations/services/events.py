"""Appending to the audit trail."""

from django.db import connection
from django.utils import timezone

from ..audit import GENESIS_HASH, event_hash, json_safe
from ..models import Event

# Any constant shared by every process: the key of the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK_KEY = 7_302_118_001


def event_record(
    *,
    verb: str,
    actor=None,
    actor_label: str = "",
    flag=None,
    project=None,
    indicator=None,
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> Event:
    """Append one event to the chain. Must run inside the transaction of the change it records.

    On PostgreSQL a transaction-scoped advisory lock serialises appends, so two concurrent transactions can
    never both chain onto the same previous event (which would fork the chain); SQLite serialises writers
    anyway. The lock is held until commit, which keeps id order and chain order the same."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_record must be called inside the transaction of the change it records")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    prev_hash = Event.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
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
