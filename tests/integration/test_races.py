"""Concurrent actions on one flag serialise on PostgreSQL: the row lock makes every later action re-read the
status the first one left, so exactly one of N conflicting actions succeeds and one event is written."""

import itertools
import threading
import time

import pytest
from django.db import connection, connections, transaction

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


def race_to_import(n: int, action) -> list[str]:
    """``race`` for imports, made certain to overlap: new batches are held at their first write (the table is
    locked against inserts, not reads) until all ``n`` imports have looked for an earlier import of the file
    and are waiting to write. Without the hold, one upload may finish before another starts (then the later
    one is simply "imported before")."""
    from indicators.models import ImportBatch

    table = ImportBatch._meta.db_table
    outcomes: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        threads = [threading.Thread(target=lambda: outcomes.extend(race(1, action))) for _ in range(n)]
        for thread in threads:
            thread.start()
        for _ in range(300):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
            if cursor.fetchone()[0] >= n:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the imports never reached their first write: {outcomes}")
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_imports_of_the_same_file_one_wins_the_others_are_told_which(lead):
    """Three uploads of one file at the same moment: one is stored, the other two wait for it on the batch's
    unique SHA-256 and are refused (409) naming it; one batch, one import event."""
    from indicators.models import ImportBatch
    from indicators.services import ImportConflict, import_file

    from ..indicators.conftest import FY16_SAMPLE

    content = FY16_SAMPLE.read_bytes()
    refusals: list[str] = []

    def upload():
        try:
            import_file(file_name=FY16_SAMPLE.name, content=content, user=lead)
        except ImportConflict as conflict:
            refusals.append(conflict.message)
            raise

    assert sorted(race_to_import(3, upload)) == ["ImportConflict", "ImportConflict", "ok"]
    batch = ImportBatch.objects.get()
    assert all(f"import #{batch.pk} (by lead at" in message for message in refusals)
    assert Event.objects.filter(verb="import.completed").count() == 1


def _upload_twice(lead, url: str) -> list:
    """The same file posted to ``url`` by two signed-in clients at the same moment; their responses."""
    from django.test import Client

    from ..indicators.conftest import FY16_SAMPLE

    clients = [Client(), Client()]
    for client in clients:
        client.force_login(lead)
    responses: list = []
    turn = iter(clients)
    lock = threading.Lock()

    def upload():
        with lock:
            client = next(turn)
        with FY16_SAMPLE.open("rb") as file:
            responses.append(client.post(url, {"file": file}))

    race_to_import(2, upload)
    return sorted(responses, key=lambda response: response.status_code)


def test_concurrent_uploads_through_the_api_answer_201_and_409(lead):
    from indicators.models import ImportBatch

    stored, refused = _upload_twice(lead, "/api/v1/imports/")
    assert (stored.status_code, refused.status_code) == (201, 409)
    assert refused.json()["duplicate_of"] == ImportBatch.objects.get().pk


def test_concurrent_uploads_on_the_import_page_answer_200_and_409_naming_the_import(lead):
    from indicators.models import ImportBatch

    stored, refused = _upload_twice(lead, "/ops/imports/")
    assert (stored.status_code, refused.status_code) == (200, 409)
    assert f"import #{ImportBatch.objects.get().pk} (by lead" in refused.content.decode()


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
