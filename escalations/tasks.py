"""Celery tasks of the escalations app: thin wrappers that take ids and call one function."""

from celery import shared_task

from . import notifications


@shared_task
def notify_event(event_id: int) -> int:
    return notifications.notify_event(event_id)
