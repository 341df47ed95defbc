"""The outbox against real faults: a broker that is down when a person acts, and a broker restarted in the
middle of a check run. Each test runs a redis-server of its own (``own_redis``) and real Celery workers; the
dispatcher is beat's task, sent here as beat would send it."""

import datetime as dt
import time

import pytest

from core.permissions import Role
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Notification, OutboxKind, OutboxMessage
from indicators.models import CheckRun, CheckShard, Direction, RuleKind

from .conftest import send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]

AS_OF = dt.date(2022, 10, 31)
DISPATCH = "escalations.tasks.dispatch_outbox"


def emails_to(folder) -> list[str]:
    """The recipients of every e-mail the workers' file backend wrote."""
    lines = [line for path in folder.glob("*.log") for line in path.read_text().splitlines()]
    return sorted(line.removeprefix("To: ") for line in lines if line.startswith("To: "))


def mail_folder(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(folder),
    }, folder


def all_delivered() -> bool:
    return not OutboxMessage.objects.filter(delivered_at=None).exists()


def test_broker_down_the_action_answers_200_and_its_notification_arrives_once_it_is_back(
    queue, workers, own_redis, broker_at, client, flag_in, liaison, deputy, tmp_path
):
    review_me, escalate_me = flag_in(FlagStatus.DETECTED), flag_in(FlagStatus.IN_REVIEW)
    OutboxMessage.objects.all().delete()  # what reaching those statuses owed, delivered eagerly: not this test's
    Notification.objects.all().delete()
    broker_at(own_redis.url)
    own_redis.stop()
    client.force_login(liaison)

    reviewed = client.post(f"/api/v1/flags/{review_me.pk}/review/", {}, content_type="application/json")
    escalated = client.post(
        f"/api/v1/flags/{escalate_me.pk}/escalate/",
        {"summary": "Slipping", "recommendation": "Make it a project"},
        content_type="application/json",
    )
    assert (reviewed.status_code, reviewed["Content-Type"], reviewed.json()["status"]) == (
        200,
        "application/json",
        "in_review",
    )
    assert (escalated.status_code, escalated.json()["status"]) == (200, "escalated")
    assert not Notification.objects.exists()  # nothing could go out…
    assert OutboxMessage.objects.filter(kind=OutboxKind.NOTIFY, delivered_at=None).count() == 2  # …but it is owed

    own_redis.start()
    env, folder = mail_folder(tmp_path)
    workers(2, REDIS_URL=own_redis.url, **env)
    for _ in range(4):  # beat's schedule, four times over, on two racing workers: still once
        send(queue, DISPATCH, broker_url=own_redis.url)
    wait_for(lambda: all_delivered() and emails_to(folder), what="the outbox delivered")
    time.sleep(2)  # the other dispatches have run
    event = Event.objects.get(flag=escalate_me, verb="flag.escalated")
    assert list(Notification.objects.values_list("user__username", "event_id")) == [("deputy", event.pk)]
    assert emails_to(folder) == [deputy.email]


def test_broker_restarted_during_a_check_run_every_notification_arrives_once(
    queue, workers, own_redis, series, only_rule, agency, liaison, make_user, tmp_path
):
    colleague = make_user(Role.LIAISON, agencies=[agency], username="colleague")
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 3)
    for i in range(30):  # every one slips 5–9 % on a year earlier: red, news for the agency's two liaisons
        series([100, 95 - i % 5], agency=agency, desired_direction=Direction.UP)
    env, folder = mail_folder(tmp_path)
    workers(1, REDIS_URL=own_redis.url, PERCOLATE_CHECK_TEST_PAUSE_SECONDS=1, PERCOLATE_OUTBOX_RETRY_BASE=1, **env)
    send(queue, "escalations.tasks.nightly_checks", AS_OF.isoformat(), broker_url=own_redis.url)
    wait_for(lambda: CheckShard.objects.filter(status="done").exists(), what="a first shard done")

    own_redis.stop()  # every queued message is gone with it: shards, dispatches
    time.sleep(2)
    own_redis.start()

    # Beat's jobs, as beat sends them: the sweeper (lost shards) and the outbox's dispatcher.
    def finished() -> bool:
        run = CheckRun.objects.get(as_of=AS_OF)
        if run.status == "running" or not all_delivered():
            send(queue, "escalations.tasks.sweep_check_shards", broker_url=own_redis.url)
            send(queue, DISPATCH, broker_url=own_redis.url)
            time.sleep(2)
            return False
        return True

    wait_for(finished, timeout=150, what="the run finished and its notifications delivered")
    run = CheckRun.objects.get(as_of=AS_OF)
    assert (run.status, run.shards_done, run.flags_opened) == ("succeeded", 3, 30)
    new_red = set(Event.objects.filter(verb="flag.detected").values_list("pk", flat=True))
    assert len(new_red) == 30
    told = list(Notification.objects.values_list("user__username", "event_id"))
    assert sorted(told) == sorted((user, pk) for user in ("liaison", "colleague") for pk in new_red)
    wait_for(lambda: len(emails_to(folder)) >= 60, what="the e-mails")
    time.sleep(2)
    assert emails_to(folder) == sorted([liaison.email] * 30 + [colleague.email] * 30)
