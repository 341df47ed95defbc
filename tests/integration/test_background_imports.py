"""Background imports on real services: the upload is answered at once, a ``celery -A config worker`` on
PostgreSQL imports it while its progress moves, and an upload made while the broker was down is started by
beat's sweep once it is back. Skipped without REDIS_URL and PostgreSQL (a failure when REQUIRE_SERVICES=1)."""

import datetime as dt
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from benchmarks.bench_import import generate
from escalations.models import Event
from indicators.models import ImportUpload, Measurement

from ..api.conftest import API, client_for  # noqa: F401
from .conftest import send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]

# The workers' default visibility timeout (10 s) would give an import 7 s: ample here, not on a loaded machine.
SLOW_MACHINE = {"CELERY_VISIBILITY_TIMEOUT": 600, "PERCOLATE_IMPORT_TIME_LIMIT": 300}


@pytest.fixture
def large_file(tmp_path, settings):
    """About 10 MB in the NYC Open Data long format (48,000 rows); anything over 100 kB goes to the background."""
    settings.PERCOLATE_IMPORT_BACKGROUND_BYTES = 100 * 1024
    path = tmp_path / "long.csv"
    rows = generate(path, indicators=2000, months=24, first_fiscal_year=2020)
    return path, rows


@pytest.fixture
def publish_to(broker_at, queue):
    """publish_to(url) → this process sends its tasks to the broker at ``url`` on this test's queue, as a web
    process with REDIS_URL does."""
    from config.celery import app

    saved = app.conf.task_default_queue

    def point(url: str) -> None:
        broker_at(url)
        app.conf.task_default_queue = queue

    yield point
    app.conf.task_default_queue = saved


def post(api, path) -> tuple:
    file = SimpleUploadedFile(path.name, path.read_bytes())
    started = time.monotonic()
    response = api.post(f"{API}imports/", {"file": file}, format="multipart")
    return response, time.monotonic() - started


def test_the_upload_answers_at_once_and_a_worker_imports_it_with_moving_progress(
    queue,
    workers,
    publish_to,
    large_file,
    client_for,  # noqa: F811
    lead,
):
    path, rows = large_file
    workers(1, **SLOW_MACHINE)
    publish_to(os.environ["REDIS_URL"])
    api = client_for(lead)
    response, seconds = post(api, path)
    assert response.status_code == 202, response.content
    assert seconds < 2
    url = response.json()["url"]

    seen = set()

    def finished():
        state = api.get(url).json()
        seen.add(state["rows_done"])
        return state if state["status"] in ("done", "failed") else None

    state = wait_for(finished, timeout=120, what="the background import")
    assert state["status"] == "done", state
    assert state["rows_done"] == state["report"]["batch"]["rows_read"] == rows
    assert state["report"]["counts"]["measurements_created"] == Measurement.objects.count()
    assert len(seen - {0, rows}) >= 1, seen  # the progress moved: seen part-way through
    assert Event.objects.filter(verb="import.completed").count() == 1


def test_an_upload_made_while_the_broker_is_down_is_imported_by_the_sweep(
    queue,
    workers,
    own_redis,
    publish_to,
    large_file,
    client_for,  # noqa: F811
    lead,
):
    path, rows = large_file
    publish_to(own_redis.url)
    own_redis.stop()
    api = client_for(lead)
    response, seconds = post(api, path)
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert seconds < 2
    upload = ImportUpload.objects.get()

    own_redis.start()
    workers(1, REDIS_URL=own_redis.url, **SLOW_MACHINE)
    ImportUpload.objects.filter(pk=upload.pk).update(uploaded_at=upload.uploaded_at - dt.timedelta(minutes=2))
    send(queue, "indicators.tasks.sweep_import_uploads", broker_url=own_redis.url)  # as beat does every minute
    wait_for(lambda: ImportUpload.objects.filter(pk=upload.pk, status="done").exists(), what="the swept import")
    assert ImportUpload.objects.get().batch.rows_read == rows
