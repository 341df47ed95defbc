"""Background imports: a file too large to import inside a web request is stored (``import_upload_queue``) and
imported by a Celery task (``import_upload_run``), which reports its progress and, at the end, the same report
the synchronous import gives.

Why not the outbox: ``indicators`` never imports ``escalations``. The stored upload plays the outbox's part
itself: it is written in the request's transaction, the task is only asked for after commit (and a broker that
cannot be reached is logged, never raised), and beat's sweep (``import_uploads_sweep``) starts every upload that
is still queued, or whose worker died, so no upload is lost."""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from functools import partial
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from core.tasks import nudge

from ..models import ImportUpload
from ..models import ImportUploadStatus as Status
from ..selectors import import_upload_progress_key
from .imports import ImportConflict, ImportRejected, _checked, import_file

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

PENDING = (Status.QUEUED, Status.RUNNING)
PROGRESS_SECONDS = 24 * 3600


class ImportUploadConflict(Conflict):
    """The same file is already waiting to be imported, or being imported (409): names that import."""

    def __init__(self, pending: ImportUpload):
        who = pending.uploaded_by.get_username() if pending.uploaded_by else "a command"
        super().__init__(
            f"the same file is already {pending.get_status_display().lower()} as background import "
            f"#{pending.pk} (uploaded by {who} at {pending.uploaded_at:%Y-%m-%d %H:%M:%S %Z}); nothing more was "
            "queued"
        )
        self.pending = pending

    def as_dict(self) -> dict[str, object]:
        return {"detail": self.message, "queued_as": self.pending.pk}


def import_upload_queue(
    *, file_name: str, content: bytes | BinaryIO, format: str | None = None, user: User | None = None
) -> ImportUpload:
    """Store a file to be imported in the background and ask a worker for it after commit (in the embedded
    mode the import runs then, in process). A file that cannot be read at all (too large, empty, binary) is
    refused at once with ``ImportRejected`` (400); the rest of its checking is the import's. The same file
    already queued or running is refused with ``ImportUploadConflict`` (409) naming it.

    Writes no audit event: the import writes its ``import.completed`` when it applies the file. Not safe to
    repeat while the first is pending (409); after it has finished, a repeat imports again (and an identical
    file changes nothing)."""
    deflater = _Deflater()
    source = _checked(content, also=deflater.add)  # read once: checked, hashed and deflated together
    pending = _pending(source.sha256)
    if pending is not None:
        raise ImportUploadConflict(pending)
    try:
        with transaction.atomic():
            upload = ImportUpload.objects.create(
                file_name=file_name[:255] or "upload",
                sha256=source.sha256,
                size=source.size,
                format=format or "",
                content=deflater.deflated(),
                rows_total=max(source.lines - 1, 0),  # less the header line: about this many rows
                uploaded_by=user,
            )
    except IntegrityError:  # the same file uploaded at the same moment: the other one was stored first
        pending = _pending(source.sha256)
        if pending is None:
            raise
        raise ImportUploadConflict(pending) from None
    transaction.on_commit(partial(import_upload_kick, upload.pk))
    logger.info("queued %s (%d bytes) as background import #%d", file_name, source.size, upload.pk)
    return upload


class _Deflater:
    """The file deflated (zlib, fastest level) chunk by chunk as ``open_source`` checks and hashes it, so that
    the file is read once. Why deflate: Django sends a bytea parameter to PostgreSQL as escaped text, and
    storing a 115 MB CSV took 4 s of the upload's request; deflated (to about 7 MB for 100 MB) it is stored in
    a fraction of a second. ``benchmarks/bench_upload.py`` measures the whole request."""

    def __init__(self) -> None:
        self._packer = zlib.compressobj(1)
        self._parts: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self._parts.append(self._packer.compress(chunk))

    def deflated(self) -> bytes:
        return b"".join([*self._parts, self._packer.flush()])


def _pending(sha256: str) -> ImportUpload | None:
    return ImportUpload.objects.select_related("uploaded_by").filter(sha256=sha256, status__in=PENDING).first()


def import_upload_kick(upload_id: int) -> None:
    """Ask a worker to import the upload now (here, in the embedded mode); with the broker away, the upload
    stays queued and beat's sweep starts it."""
    from ..tasks import import_upload

    nudge(import_upload, upload_id, later="beat's import sweep")


def import_upload_run(*, upload_id: int) -> ImportUpload | None:
    """Import a queued upload: queued → running → done (with the import's report and batch) or failed (with
    its errors). The import itself is ``import_file``'s: all or nothing, one ``import.completed`` event when
    the file applies, none when it fails. Progress (rows read of about N) goes to the cache while the import's
    transaction is open, where the page and the API read it.

    Safe to repeat and to run on many workers at once: only the run that moves the upload from queued to
    running imports it (``UPDATE … WHERE status = 'queued'``); the others return ``None``."""
    claimed = ImportUpload.objects.filter(pk=upload_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    upload = ImportUpload.objects.select_related("uploaded_by").get(pk=upload_id)
    key = import_upload_progress_key(upload.pk)

    def progress(done: int, total: int) -> None:
        # ``total`` counts the header line too: the row count taken at upload is the better "about".
        cache.set(key, {"done": done, "total": max(done, upload.rows_total)}, PROGRESS_SECONDS)

    report: dict[str, object]
    batch = None
    try:
        outcome = import_file(
            file_name=upload.file_name,
            content=zlib.decompress(upload.content),
            format=upload.format or None,
            user=upload.uploaded_by,
            progress=progress,
        )
    except (ImportRejected, ImportConflict) as refused:
        status, report = Status.FAILED, refused.as_dict()
    except Exception:  # a bug or a database failure: say so on the upload rather than leave it running
        logger.exception("background import #%s failed", upload_id)
        message = "the import stopped on an unexpected error; nothing was imported — upload the file again"
        status, report = Status.FAILED, _failure(message)
    else:
        status, report, batch = Status.DONE, outcome.as_dict(), outcome.batch
    done = int(report.get("rows", 0) or 0)  # type: ignore[call-overload]
    ImportUpload.objects.filter(pk=upload_id, status=Status.RUNNING).update(
        status=status,
        report=report,
        batch=batch,
        rows_done=done,
        rows_total=done if status == Status.DONE else upload.rows_total,
        content=b"",  # imported or refused: the bytes are not needed any more
        finished_at=timezone.now(),
    )
    cache.delete(key)
    upload.refresh_from_db()
    logger.info("background import #%s: %s", upload_id, upload.status, extra={"import_upload": upload_id})
    return upload


def _failure(message: str) -> dict[str, object]:
    """A failure's report, shaped as ``ImportRejected.as_dict`` (the page and the API show it the same way)."""
    return {"detail": message, "errors": [{"line": None, "column": None, "message": message}], "warnings": []}


def import_uploads_sweep(*, now: dt.datetime | None = None) -> int:
    """Start what was not started: uploads still queued a minute after upload (their kick after commit was lost
    with the broker), and uploads running longer than the time limit (their worker died or was killed by it) —
    queued again, or failed after ``PERCOLATE_IMPORT_MAX_ATTEMPTS`` runs. Returns how many were asked for.

    Writes no audit event (a status on the upload, no change to what is measured). Safe to repeat: a second
    ask for an upload is refused by ``import_upload_run``'s claim."""
    now = now or timezone.now()
    stuck_before = now - dt.timedelta(seconds=settings.PERCOLATE_IMPORT_TIME_LIMIT + 60)
    stuck = ImportUpload.objects.filter(status=Status.RUNNING, started_at__lt=stuck_before)
    message = (
        f"the import did not finish within {settings.PERCOLATE_IMPORT_TIME_LIMIT} s in "
        f"{settings.PERCOLATE_IMPORT_MAX_ATTEMPTS} attempts; nothing was imported"
    )
    stuck.filter(attempts__gte=settings.PERCOLATE_IMPORT_MAX_ATTEMPTS).update(
        status=Status.FAILED,
        content=b"",
        finished_at=now,
        report=_failure(message),
    )
    retried = set(stuck.values_list("pk", flat=True))
    stuck.filter(pk__in=retried).update(status=Status.QUEUED)
    waiting = ImportUpload.objects.filter(status=Status.QUEUED, uploaded_at__lt=now - dt.timedelta(seconds=60))
    ids = sorted(retried | set(waiting.values_list("pk", flat=True)))
    for upload_id in ids:
        import_upload_kick(upload_id)
    return len(ids)
