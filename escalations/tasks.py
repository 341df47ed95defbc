"""Celery tasks of the escalations app: thin wrappers that take ids and ISO dates and call one service.

The check tasks are idempotent (see ``check_shard_execute``), which is what makes ``acks_late`` safe: a task
is acknowledged only after it finished, and with ``reject_on_worker_lost`` a worker killed mid-task puts it
back on the queue for another worker. The time limits stay below the broker's visibility timeout, or Redis
would hand a still-running task to a second worker."""

import datetime as dt
import logging
from typing import TypedDict

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from indicators.models import CheckRunMode, CheckRunTrigger

from .services import events, notifications, outbox, sla
from .services.checks import CheckRunBusy, check_run_start, check_shard_execute, check_shards_sweep


class _TaskOptions(TypedDict):
    """Options of ``shared_task`` (a TypedDict, so that the type checker matches them to its signature)."""

    acks_late: bool
    reject_on_worker_lost: bool


IDEMPOTENT: _TaskOptions = {"acks_late": True, "reject_on_worker_lost": True}
_SHARD_LIMIT = settings.PERCOLATE_CHECK_SHARD_TIME_LIMIT
logger = logging.getLogger(__name__)


@shared_task
def dispatch_outbox() -> int:
    """Deliver the side effects waiting in the outbox: run by beat every few seconds and kicked after each
    commit that owes one. Safe to run on many workers at once (rows are claimed with SKIP LOCKED)."""
    return outbox.outbox_dispatch().delivered


# notify_event and notify_events: the notifications now leave through the outbox; these two remain for
# messages queued before it (and for a person re-sending an event's notifications by hand). Idempotent.
@shared_task(**IDEMPOTENT)
def notify_event(event_id: int) -> int:
    count = len(notifications.notifications_create(event_id=event_id))
    logger.info("event #%s: %s notification(s)", event_id, count, extra={"event": event_id, "notifications": count})
    return count


@shared_task(**IDEMPOTENT)
def notify_events(event_ids: list[int]) -> int:
    """The notifications of many events (a detection shard's new red flags)."""
    count = len(notifications.notifications_create_many(event_ids=event_ids))
    logger.info("%s event(s): %s notification(s)", len(event_ids), count, extra={"notifications": count})
    return count


@shared_task(**IDEMPOTENT)
def send_digests() -> int:
    """Daily: owe each digest user their digest (the dispatcher sends them)."""
    return notifications.digests_send()


@shared_task(**IDEMPOTENT)
def mark_overdue() -> int:
    """Hourly: mark overdue flags, then tell the ops leads of those untouched past the grace period."""
    return sla.flags_mark_overdue() + sla.flags_escalate_overdue_to_leads()


@shared_task(**IDEMPOTENT)
def resume_monitoring() -> int:
    return sla.flags_resume_due_monitoring()


@shared_task(**IDEMPOTENT)
def verify_audit() -> int | None:
    """Nightly: recompute the audit chain against its checkpoints and, when it holds, checkpoint its head;
    returns the id of the alert event when this run found a break."""
    alert = events.audit_chain_check()
    return alert.pk if alert else None


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError, InterfaceError),
    max_retries=3,
    retry_backoff=5,
    time_limit=_SHARD_LIMIT,
    soft_time_limit=max(1, _SHARD_LIMIT - 30) if _SHARD_LIMIT > 60 else max(1, _SHARD_LIMIT - 1),
)
def check_shard(shard_id: int) -> str:
    shard = check_shard_execute(shard_id=shard_id)
    return f"shard #{shard_id}: " + ("done" if shard else "nothing to do")


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(CheckRunBusy, DatabaseError),
    max_retries=6,
    retry_backoff=60,
)
def nightly_checks(as_of: str | None = None, mode: str = CheckRunMode.INCREMENTAL) -> int:
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return check_run_start(mode=mode, as_of=day, trigger=CheckRunTrigger.NIGHTLY).run.pk


@shared_task(acks_late=True)
def sweep_check_shards() -> int:
    return check_shards_sweep()
