"""Concurrent actions on one flag serialise on PostgreSQL: the row lock makes every later action re-read the
status the first one left, so exactly one of N conflicting actions succeeds and one event is written."""

import itertools
import threading

import pytest
from django.db import connection, connections

from core.errors import DomainError
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Project

from ..conftest import require_service
from ..factories import FlagFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def race(n: int, action) -> list[str]:
    """Run ``action`` in ``n`` threads released at the same moment; return each one's outcome."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def worker():
        try:
            barrier.wait()
            action()
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture(autouse=True)
def postgres_only():
    require_service("PostgreSQL", connection.vendor == "postgresql")


def test_twenty_concurrent_reviews_one_wins(liaison, agency):
    flag = FlagFactory(indicator__agency=agency)
    outcomes = race(20, lambda: services.flag_review(flag=flag, actor=liaison))
    assert sorted(outcomes) == ["TransitionNotAllowed"] * 19 + ["ok"]
    assert Event.objects.filter(flag=flag).count() == 1
    flag.refresh_from_db()
    assert flag.status == FlagStatus.IN_REVIEW


def test_a_double_submitted_conversion_makes_one_project(lead, liaison, agency):
    flag = services.flag_review(flag=FlagFactory(indicator__agency=agency), actor=liaison)
    outcomes = race(2, lambda: services.flag_convert(flag=flag, actor=lead, title="Only once"))
    assert sorted(outcomes) == ["TransitionNotAllowed", "ok"]
    assert Project.objects.filter(title="Only once").count() == 1
    assert Event.objects.filter(flag=flag, verb="flag.converted").count() == 1


def test_concurrent_events_never_fork_the_audit_chain(liaison, agency):
    flags = [FlagFactory(indicator__agency=agency) for _ in range(10)]
    iterator = iter(flags)
    lock = threading.Lock()

    def review_next():
        with lock:
            flag = next(iterator)
        services.flag_review(flag=flag, actor=liaison)

    assert race(10, review_next) == ["ok"] * 10
    hashes = list(Event.objects.order_by("id").values_list("prev_hash", "hash"))
    assert all(after[0] == before[1] for before, after in itertools.pairwise(hashes))


def test_twenty_concurrent_requests_one_200_nineteen_409(live_server, lead, agency):
    """The same race through the API over HTTP, as twenty double-clicking clients would run it."""
    import json
    import urllib.error
    import urllib.request

    from knox.models import AuthToken

    flag = FlagFactory(indicator__agency=agency)
    _, token = AuthToken.objects.create(user=lead)
    statuses: list[int] = []

    def review():
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/flags/{flag.pk}/review/",
            data=json.dumps({}).encode(),
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    race(20, review)
    assert sorted(statuses) == [200] + [409] * 19
    assert Event.objects.filter(flag=flag).count() == 1


def test_concurrent_sign_outs_revoke_each_token_once(liaison):
    """ "Sign out everywhere" double-clicked while a script signs out with one of the tokens: every token
    is revoked, and each is named by exactly one event."""
    from escalations.services.accounts import token_id

    tokens = [services.token_create(user=liaison)[0] for _ in range(3)]
    actions = iter(
        [lambda: services.tokens_revoke_all(user=liaison, actor=liaison)] * 3
        + [lambda: services.token_revoke(token=tokens[0], actor=liaison)] * 3
    )
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        action()

    assert race(6, next_action) == ["ok"] * 6
    named = [
        name
        for data in Event.objects.filter(verb="auth.token_revoked").values_list("data", flat=True)
        for name in data["token_ids"]
    ]
    assert sorted(named) == sorted(token_id(token) for token in tokens)
