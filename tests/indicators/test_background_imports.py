"""Large imports in the background: a file over ``PERCOLATE_IMPORT_BACKGROUND_BYTES`` is stored, answered at
once (202 on the API, a progress page on the site) and imported by the Celery task — eagerly here, as in the
embedded mode; tests/integration/test_background_imports.py runs it on a real worker."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from escalations.models import Event
from indicators.models import ImportBatch, ImportUpload, ImportUploadStatus, Measurement
from indicators.services import import_upload_queue, import_uploads_sweep

from ..api.conftest import API, client_for  # noqa: F401
from .conftest import SHIPPED

LARGE = SHIPPED / "nyc-pmmr-fy2023-indicators.csv"  # 300 kB, 1,139 rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings):
    """Any file over 1 kB goes to the background."""
    settings.PERCOLATE_IMPORT_BACKGROUND_BYTES = 1024


def sample(name: str = LARGE.name, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, LARGE.read_bytes() if content is None else content, content_type="text/csv")


def broken() -> bytes:
    """The sample with a value no one could import, far down the file."""
    lines = LARGE.read_bytes().splitlines(keepends=True)
    header = lines[0].decode().split(",")
    index = next(i for i in range(500, len(lines)) if b'"' not in lines[i])
    row = lines[index].decode().split(",")
    row[header.index("2019")] = "lots"
    lines[index] = ",".join(row).encode()
    return b"".join(lines)


BROKEN_LINE = 1 + next(i for i in range(500, 1140) if b'"' not in LARGE.read_bytes().splitlines()[i])


def test_api_answers_202_with_the_imports_url_and_the_import_finishes_with_its_report(
    client_for,  # noqa: F811
    lead,
    django_capture_on_commit_callbacks,
):
    api = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{API}imports/", {"file": sample()}, format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["url"].endswith(f"/api/v1/import-uploads/{body['id']}/")
    assert response["Location"] == body["url"]

    followed = api.get(body["url"]).json()
    assert followed["status"] == "done"
    assert followed["rows_done"] == followed["rows_total"] == 1139
    report = followed["report"]
    assert report["batch"]["file_name"] == LARGE.name and report["batch"]["imported_by"] == "lead"
    assert report["counts"]["measurements_created"] == Measurement.objects.count() > 0
    assert Event.objects.filter(verb="import.completed").count() == 1
    assert not bytes(ImportUpload.objects.get().content)  # the file's bytes are dropped once imported


def test_a_failed_background_import_shows_failed_with_its_errors(
    client_for,  # noqa: F811
    lead,
    django_capture_on_commit_callbacks,
):
    api = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{API}imports/", {"file": sample(content=broken())}, format="multipart")
    assert response.status_code == 202
    followed = api.get(response.json()["url"]).json()
    assert followed["status"] == "failed"
    errors = followed["report"]["errors"]
    assert errors[0]["line"] == BROKEN_LINE and errors[0]["column"] == "2019"
    assert not ImportBatch.objects.exists() and not Measurement.objects.exists()
    assert not Event.objects.filter(verb="import.completed").exists()


def test_a_second_upload_of_a_queued_file_is_409_naming_it(client_for, lead):  # noqa: F811
    api = client_for(lead)
    first = api.post(f"{API}imports/", {"file": sample()}, format="multipart")  # not committed: stays queued
    assert first.status_code == 202 and first.json()["status"] == "queued"
    second = api.post(f"{API}imports/", {"file": sample("again.csv")}, format="multipart")
    assert second.status_code == 409
    assert second.json()["queued_as"] == first.json()["id"]
    assert f"#{first.json()['id']}" in second.json()["detail"]
    assert ImportUpload.objects.count() == 1


def test_a_file_that_cannot_be_read_is_refused_at_once(client_for, lead):  # noqa: F811
    response = client_for(lead).post(f"{API}imports/", {"file": sample(content=b"\x00" * 4096)}, format="multipart")
    assert response.status_code == 400
    assert "binary" in response.json()["errors"][0]["message"]
    assert not ImportUpload.objects.exists()


def test_small_files_and_dry_runs_are_imported_inside_the_request(client_for, lead, settings):  # noqa: F811
    api = client_for(lead)
    assert api.post(f"{API}imports/", {"file": sample(), "dry_run": "true"}, format="multipart").status_code == 200
    settings.PERCOLATE_IMPORT_BACKGROUND_BYTES = 5 * 1024 * 1024
    assert api.post(f"{API}imports/", {"file": sample()}, format="multipart").status_code == 201
    assert not ImportUpload.objects.exists()


def test_background_imports_are_for_operations_only(client_for, lead, liaison):  # noqa: F811
    upload = import_upload_queue(file_name="x.csv", content=LARGE.read_bytes(), user=lead)
    assert client_for(liaison).get(f"{API}import-uploads/{upload.pk}/").status_code == 403
    assert client_for(None).get(f"{API}import-uploads/{upload.pk}/").status_code in (401, 403)
    assert client_for(lead).get(f"{API}import-uploads/{upload.pk}/").json()["status"] == "queued"


def test_the_import_page_redirects_to_the_progress_page_which_shows_the_report(
    client, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_upload"), {"file": sample()})
    upload = ImportUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_upload_detail", args=[upload.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Done" in page and "1,139 rows read" in page
    assert "Imported" in page and f"Batch #{upload.batch_id}" in page
    assert "every 1s" not in page  # finished: the page stops polling
    assert LARGE.name in client.get(reverse("import_upload")).content.decode()  # listed on the import page


def test_a_queued_import_page_polls_and_a_failed_one_lists_its_errors(client, lead, django_capture_on_commit_callbacks):
    client.force_login(lead)
    client.post(reverse("import_upload"), {"file": sample()})  # not committed: stays queued
    queued = ImportUpload.objects.get()
    page = client.get(reverse("import_upload_detail", args=[queued.pk])).content.decode()
    assert "Queued" in page and 'hx-trigger="every 1s"' in page
    again = client.post(reverse("import_upload"), {"file": sample("again.csv")})
    assert again.status_code == 409 and f"background import #{queued.pk}" in again.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_upload"), {"file": sample("broken.csv", broken())})
    failed = client.get(response["Location"]).content.decode()
    assert "Failed" in failed and "Rejected: nothing was imported" in failed and f"<td>{BROKEN_LINE}</td>" in failed


def test_the_sweep_starts_what_was_left_queued_and_retries_a_dead_workers_run(lead, settings):
    now = timezone.now()
    left = import_upload_queue(file_name="left.csv", content=LARGE.read_bytes(), user=lead)
    assert import_uploads_sweep(now=now) == 0  # just uploaded: its own kick may still come
    assert import_uploads_sweep(now=now + dt.timedelta(minutes=2)) == 1
    left.refresh_from_db()
    assert left.status == ImportUploadStatus.DONE and left.batch is not None

    dead = import_upload_queue(file_name="dead.csv", content=broken(), user=lead)
    stuck_since = now - dt.timedelta(seconds=settings.PERCOLATE_IMPORT_TIME_LIMIT + 120)
    running = {"status": ImportUploadStatus.RUNNING, "started_at": stuck_since}
    ImportUpload.objects.filter(pk=dead.pk).update(**running, attempts=1)
    assert import_uploads_sweep() == 1  # run again, and this time it finishes (failed: the file is broken)
    dead.refresh_from_db()
    assert dead.status == ImportUploadStatus.FAILED and dead.attempts == 2

    hopeless = import_upload_queue(file_name="hopeless.csv", content=b"a,b\n1,2\n" * 200, user=lead)
    ImportUpload.objects.filter(pk=hopeless.pk).update(**running, attempts=settings.PERCOLATE_IMPORT_MAX_ATTEMPTS)
    import_uploads_sweep()
    hopeless.refresh_from_db()
    assert hopeless.status == ImportUploadStatus.FAILED
    assert "did not finish" in hopeless.report["errors"][0]["message"]
