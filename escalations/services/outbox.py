"""The outbox: every side effect of a change (notifications, e-mails, check shards) is a row written in the
change's own transaction, and a dispatcher delivers the rows.

Why: ``transaction.on_commit(task.delay)`` parted a change from its side effects. With the broker down the
change committed and the request answered 500; a message lost by the broker (a Redis restart) was lost for
good. Here the change writes an ``OutboxMessage`` (``outbox_put``) and, after commit, kicks the dispatcher; a
kick that cannot reach the broker is logged and swallowed (the row is safe), and beat runs the dispatcher every
few seconds anyway (``escalations.tasks.dispatch_outbox``).

The dispatcher (``outbox_dispatch``) takes one due row at a time, locked with ``SELECT … FOR UPDATE SKIP
LOCKED`` (any number of dispatchers share the work without waiting on each other), delivers it *in process*, in
a savepoint, and marks it delivered in the same transaction. In process, because then "exactly once" is the
database's: what a delivery writes (the notifications of an event, the e-mail rows of those notifications) and
the row's "delivered" commit together or not at all, and no queue can hand the same message to two workers.
Two kinds leave the database:

- an e-mail: the claim on the notification (``emailed_at``) and "delivered" commit only after the mail backend
  accepted the message; a backend that refuses rolls the claim back and the row records the error. Only a crash
  between the backend's acceptance and the commit can send one twice.
- a check shard: delivered means *handed to the broker* (``check_shard``): shards run in parallel on any
  number of workers, and a long shard must not hold the dispatcher. A message the broker loses afterwards is
  the sweeper's (``check_shards_sweep``); a shard executed twice runs once (``check_shard_execute``).

A failed delivery is recorded (``attempts``, ``last_error``) and retried after an exponential backoff
(``PERCOLATE_OUTBOX_RETRY_BASE`` seconds, doubling, at most ``PERCOLATE_OUTBOX_RETRY_CAP``); after
``PERCOLATE_OUTBOX_MAX_ATTEMPTS`` the row is failed for good, visible in the admin and counted on ``/healthz``.

In the embedded mode (no broker, eager Celery) the kick runs the dispatcher in process right after commit, so
the side effects happen before the request returns, as they always did.

The dispatcher writes no audit event: it carries out what an audited change already recorded."""

import contextvars
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.tasks import nudge

from ..models import OutboxKind, OutboxMessage

logger = logging.getLogger(__name__)

# Set while a dispatcher runs: the rows its deliveries write are taken by the same loop, no kick needed.
_dispatching: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_dispatching", default=False)


def outbox_put(kind: str, payload: dict[str, Any], *, key: str | None = None) -> None:
    """Owe one side effect (see ``outbox_put_many``)."""
    outbox_put_many(kind, [payload], keys=[key])


def outbox_put_many(kind: str, payloads: Sequence[dict[str, Any]], *, keys: Sequence[str | None] = ()) -> None:
    """Owe side effects of one kind: rows written in the caller's transaction, the dispatcher kicked once after
    it commits. A message whose ``key`` is already in the outbox is not written again (safe to repeat)."""
    if not payloads:
        return
    now = timezone.now()
    keys = list(keys) or [None] * len(payloads)
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(kind=kind, payload=p, key=k, next_attempt_at=now) for p, k in zip(payloads, keys, strict=True)],
        ignore_conflicts=True,
    )
    if not _dispatching.get():
        transaction.on_commit(outbox_kick)


def outbox_kick() -> None:
    """Ask a worker to dispatch now (here, in the embedded mode); with the broker away, beat's dispatcher
    delivers the rows once it is back — the request that wrote them has committed and answers as usual."""
    from ..tasks import dispatch_outbox

    nudge(dispatch_outbox, later="beat's outbox dispatcher")


@dataclass
class Dispatched:
    delivered: int = 0
    failed: int = 0  # attempts that failed this time (retried later, or given up)


def outbox_dispatch(*, limit: int = 1000) -> Dispatched:
    """Deliver the due messages, one at a time, until none is due (or ``limit``: then kick another run). Safe to
    run on any number of workers at once: a locked row is skipped, never delivered twice."""
    done = Dispatched()
    token = _dispatching.set(True)
    try:
        for _ in range(limit):
            outcome = _dispatch_one()
            if outcome is None:
                break
            if outcome:
                done.delivered += 1
            else:
                done.failed += 1
        else:
            outbox_kick()
    finally:
        _dispatching.reset(token)
    if done.delivered or done.failed:
        logger.info("outbox: %s delivered, %s failed", done.delivered, done.failed, extra={**done.__dict__})
    return done


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a message waits after its ``attempts``-th failure: doubling from the base, capped."""
    seconds = settings.PERCOLATE_OUTBOX_RETRY_BASE * 2 ** min(attempts - 1, 30)
    return dt.timedelta(seconds=min(seconds, settings.PERCOLATE_OUTBOX_RETRY_CAP))


def _dispatch_one() -> bool | None:
    """Deliver the next due message: True delivered, False failed (recorded), None when nothing is due."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            # A savepoint: a failed delivery leaves nothing behind but the record of its failure below.
            with transaction.atomic():
                _deliverer(message.kind)(message.payload)
        except Exception as error:  # noqa: BLE001 (whatever fails, this message alone fails; recorded below)
            _record_failure(message, error, now)
            return False
        message.delivered_at = timezone.now()
        message.save(update_fields=["attempts", "delivered_at"])
        return True


def _record_failure(message: OutboxMessage, error: Exception, now: dt.datetime) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    extra = {"outbox": message.pk, "kind": message.kind, "attempts": message.attempts}
    if message.attempts >= settings.PERCOLATE_OUTBOX_MAX_ATTEMPTS:
        message.failed_at = now
        logger.error("outbox: %s gave up after %s attempts: %s", message, message.attempts, error, extra=extra)
    else:
        message.next_attempt_at = now + retry_delay(message.attempts)
        logger.warning("outbox: %s failed (attempt %s): %s", message, message.attempts, error, extra=extra)
    message.save(update_fields=["attempts", "last_error", "failed_at", "next_attempt_at"])


def _deliverer(kind: str) -> Callable[[dict[str, Any]], object]:
    from ..tasks import check_shard
    from . import notifications

    deliverers: dict[str, Callable[[dict[str, Any]], object]] = {
        OutboxKind.NOTIFY: lambda p: notifications.notifications_create_many(
            event_ids=p["events"], reason=p.get("reason", "event")
        ),
        OutboxKind.EMAIL: lambda p: notifications.notification_email_send(notification_id=p["notification"]),
        OutboxKind.DIGEST: lambda p: notifications.digest_send(user_id=p["user"]),
        OutboxKind.CHECK_SHARD: lambda p: check_shard.apply_async((p["shard"],), retry=False),
    }
    return deliverers[kind]


def outbox_counts() -> dict[str, int]:
    """How many messages wait (due now or later) and how many failed for good: ``/healthz`` shows them."""
    waiting = OutboxMessage.objects.filter(delivered_at__isnull=True)
    return {
        "waiting": waiting.filter(failed_at__isnull=True).count(),
        "failed": waiting.exclude(failed_at=None).count(),
    }
