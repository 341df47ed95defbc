"""The outbox: side effects leave after the change commits, each delivered once, a failure alone, retried."""

import datetime as dt
import socket

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core.permissions import Role
from escalations import services
from escalations.models import EmailMode, Notification, NotificationPreference, OutboxKind, OutboxMessage
from escalations.services.notifications import digests_send, email_subject
from escalations.services.outbox import outbox_dispatch

from ..factories import IndicatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def liaisons(make_user, agency, liaison):
    """Three liaisons of ``agency``: each hears of a new red case there."""
    return [liaison] + [make_user(Role.LIAISON, agencies=[agency], username=name) for name in ("ana", "bo")]


@pytest.fixture
def red_case(make_user, agency, django_capture_on_commit_callbacks):
    """red_case(name) → raise a red case on a new indicator of ``agency`` named ``name``, as an ops lead, and
    commit (the kick after commit dispatches the outbox in process, as in the embedded mode)."""
    lead = make_user(Role.OPS_LEAD, username="raiser")

    def raise_(name="Streets cleaned"):
        with django_capture_on_commit_callbacks(execute=True):
            return services.flag_raise(
                indicator=IndicatorFactory(agency=agency, name=name), actor=lead, severity="red", summary="s"
            )

    return raise_


def test_one_refused_recipient_fails_alone_and_is_retried_after_its_backoff(settings, liaisons, red_case):
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
    settings.TEST_EMAIL_REFUSED = ["bo@percolate.example"]
    settings.PERCOLATE_OUTBOX_RETRY_BASE = 60
    bo = liaisons[2]
    assert bo.email == "bo@percolate.example"

    red_case()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in liaisons if u != bo)
    refused = OutboxMessage.objects.get(kind=OutboxKind.EMAIL, delivered_at=None)
    assert refused.attempts == 1 and "SMTPRecipientsRefused" in refused.last_error
    assert refused.next_attempt_at > timezone.now() + dt.timedelta(seconds=50) and refused.failed_at is None
    assert Notification.objects.get(user=bo).emailed_at is None  # not marked e-mailed: nothing was sent
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2

    settings.TEST_EMAIL_REFUSED = []  # the mailbox is back
    assert outbox_dispatch().delivered == 0  # not before its next attempt
    with time_machine.travel(refused.next_attempt_at + dt.timedelta(seconds=1)):
        assert outbox_dispatch().delivered == 1
        assert outbox_dispatch().delivered == 0
    assert [m.to for m in mail.outbox][-1] == [bo.email] and len(mail.outbox) == 3
    refused.refresh_from_db()
    assert refused.delivered_at is not None and refused.attempts == 2
    assert Notification.objects.get(user=bo).emailed_at is not None


def test_a_message_out_of_attempts_stays_failed_visible_to_admins_and_on_healthz(
    settings, liaisons, red_case, client, django_user_model
):
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
    settings.TEST_EMAIL_REFUSED = ["bo@percolate.example"]
    settings.PERCOLATE_OUTBOX_MAX_ATTEMPTS = 2
    red_case()
    refused = OutboxMessage.objects.get(kind=OutboxKind.EMAIL, delivered_at=None)
    with time_machine.travel(refused.next_attempt_at + dt.timedelta(seconds=1)):
        assert outbox_dispatch().failed == 1
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        assert outbox_dispatch().failed == 0  # given up: no more attempts
    refused.refresh_from_db()
    assert refused.attempts == 2 and refused.failed_at is not None and refused.state == "failed"

    assert client.get("/healthz").json()["outbox"] == {"waiting": 0, "failed": 1}
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    page = client.get("/admin/escalations/outboxmessage/?failed_at__isnull=False")
    assert page.status_code == 200 and "SMTPRecipientsRefused" in page.content.decode()
    assert client.get(f"/admin/escalations/outboxmessage/{refused.pk}/delete/").status_code == 403


def test_a_subject_with_a_newline_is_sanitised_and_the_mail_is_sent(liaisons, red_case):
    red_case("Trucks out\r\nBcc: everyone@example.com\tnow")
    assert len(mail.outbox) == 3
    assert {m.subject for m in mail.outbox} == {
        "[Percolate] Flag raised by a person: Trucks out Bcc: everyone@example.com now"
    }
    assert all(len(m.recipients()) == 1 for m in mail.outbox)
    assert not OutboxMessage.objects.filter(delivered_at=None).exists()


def test_a_refused_digest_keeps_its_notifications_for_the_retry(settings, liaisons, red_case):
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
    settings.TEST_EMAIL_REFUSED = ["bo@percolate.example"]
    bo = liaisons[2]
    NotificationPreference.objects.create(user=bo, email_mode=EmailMode.DIGEST)
    red_case()
    red_case("Potholes filled")
    assert digests_send() == 1
    outbox_dispatch()
    digest = OutboxMessage.objects.get(kind=OutboxKind.DIGEST)
    assert digest.delivered_at is None and "SMTPRecipientsRefused" in digest.last_error
    assert Notification.objects.filter(user=bo, emailed_at=None).count() == 2  # not claimed: nothing was sent

    settings.TEST_EMAIL_REFUSED = []
    with time_machine.travel(digest.next_attempt_at + dt.timedelta(seconds=1)):
        outbox_dispatch()
    [sent] = [m for m in mail.outbox if m.to == [bo.email]]
    assert "2 update(s)" in sent.subject and "Potholes filled" in sent.body
    assert not Notification.objects.filter(user=bo, emailed_at=None).exists()


def test_subjects_lose_control_characters_and_stay_short():
    assert email_subject("a\nb\u2028c\x00d\u202ee   f") == "[Percolate] a b c d e f"
    long = email_subject("x" * 500)
    assert len(long) == 200 and long.endswith("…")


def test_each_notification_is_emailed_once_however_often_it_is_owed(liaisons, red_case):
    flag = red_case()
    from escalations.services.notifications import notifications_create

    event = flag.events.get()
    for _ in range(2):
        notifications_create(event_id=event.pk)
        outbox_dispatch()
    assert Notification.objects.count() == 3 and len(mail.outbox) == 3
    assert OutboxMessage.objects.filter(kind=OutboxKind.EMAIL).count() == 3


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: nothing listens there


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_the_action_answers_and_beats_dispatcher_delivers_later(
    client, flag_in, liaison, deputy, broker_at
):
    from escalations.lifecycle import FlagStatus

    flag = flag_in(FlagStatus.IN_REVIEW)
    mail.outbox.clear()
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    client.force_login(liaison)
    response = client.post(
        f"/api/v1/flags/{flag.pk}/escalate/", {"summary": "s", "recommendation": "r"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "escalated"
    assert not Notification.objects.filter(user=deputy).exists()
    owed = OutboxMessage.objects.get(delivered_at=None)
    assert (owed.kind, owed.attempts) == (OutboxKind.NOTIFY, 0)

    outbox_dispatch()  # what beat's dispatcher does once a worker runs it
    assert Notification.objects.filter(user=deputy).count() == 1
    assert [m.to for m in mail.outbox] == [[deputy.email]]
