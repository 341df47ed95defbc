"""Celery tasks of the escalations app: thin wrappers that take ids or ISO dates and call one service.
Every one of them is safe to repeat, so they acknowledge late (a worker lost mid-task means a redelivery)."""

from celery import shared_task

from .services import audit, notifications, sla

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def notify_event(event_id: int) -> int:
    return len(notifications.notifications_create(event_id=event_id))


@shared_task(**IDEMPOTENT)
def send_digests() -> int:
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
    """Nightly: recompute the audit chain; returns the id of the alert event when this run found a break."""
    alert = audit.audit_chain_check()
    return alert.pk if alert else None
