"""Notifications on real workers: the same task delivered four times to two racing workers sends one e-mail."""

import time

import pytest

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Notification

from .conftest import send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]


def emails_in(folder) -> list[str]:
    return [line for path in folder.glob("*.log") for line in path.read_text().splitlines() if line.startswith("To: ")]


def test_one_email_however_often_and_however_many_workers(queue, workers, flag_in, liaison, deputy, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    flag = services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    event = Event.objects.get(flag=flag, verb="flag.escalated")
    # This process ran the escalation's own notification eagerly after commit; start the workers' race from
    # an event nobody has been told of yet.
    Notification.objects.all().delete()
    workers(
        2,
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        DJANGO_EMAIL_FILE_PATH=str(outbox),
    )
    for _ in range(4):
        send(queue, "escalations.tasks.notify_event", event.pk)
    wait_for(lambda: Notification.objects.filter(emailed_at__isnull=False).exists(), what="the e-mail")
    wait_for(lambda: emails_in(outbox), what="the e-mail file")
    time.sleep(3)  # the other three deliveries, on both workers, have had time to run
    assert Notification.objects.count() == 1
    assert emails_in(outbox) == [f"To: {deputy.email}"]
