"""Scheduling notifications. They leave only after the transaction that wrote the event commits, so a
rolled-back change never tells anybody anything."""

from django.db import transaction


def notify_after_commit(event) -> None:
    from ..tasks import notify_event

    event_id = event.pk
    transaction.on_commit(lambda: notify_event.delay(event_id))
