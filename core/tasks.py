"""Asking a worker to do something now, when a periodic job will do it anyway if the broker cannot be
reached (the outbox's dispatcher, a queued background import)."""

import logging
from typing import Any

logger = logging.getLogger(__name__)


def nudge(task: Any, *args: Any, later: str) -> None:
    """Run ``task`` now: here in the embedded mode (eager), else on a worker. A broker that cannot be reached is
    logged, never raised — what the task would do is safe in the database and ``later`` (the periodic job that
    does it anyway, named in the log) picks it up. No retries, neither to connect nor to publish: kombu's
    defaults would hold the request for seconds while the broker is away."""
    if task.app.conf.task_always_eager:
        task.apply(args)
        return
    try:
        with task.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            task.apply_async(args, producer=producer, retry=False)
    except Exception:  # any failure to publish
        logger.warning("%s: the broker is unreachable; %s will do it", task.name, later, exc_info=True)
