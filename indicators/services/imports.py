"""Importing indicator files: the one service behind the command, the API and the upload page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.db import DataError, IntegrityError, transaction

from core.audit import record_change
from core.errors import Conflict, DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from .. import importers
from ..importers.base import Problem, Report
from ..models import ImportBatch
from .import_writer import COUNTS, ImportWriter, import_summary

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class ImportRejected(DomainError):
    """The file has errors; nothing was written (400). ``errors`` lists every problem found (the first
    thousand, then a count), each with line (the header is line 1), column and reason."""

    def __init__(self, errors: Sequence[Problem], warnings: Sequence[Problem] = ()):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = list(errors)
        self.warnings = list(warnings)

    def as_dict(self) -> dict[str, object]:
        """``{"detail", "errors": [{"line", "column", "message"}, …], "warnings": […]}``."""
        return {
            "detail": self.message,
            "errors": [problem.as_dict() for problem in self.errors],
            "warnings": [problem.as_dict() for problem in self.warnings],
        }


class ImportConflict(Conflict):
    """The same file was being imported by someone else at the same moment, and theirs was stored first
    (409): names that import (id, who, when); nothing of this one was written."""

    def __init__(self, winner: ImportBatch):
        who = winner.imported_by.get_username() if winner.imported_by else "a command"
        super().__init__(
            f"the same file was imported at the same moment as import #{winner.pk} "
            f"(by {who} at {winner.imported_at:%Y-%m-%d %H:%M:%S %Z}); nothing more was imported"
        )
        self.winner = winner

    def as_dict(self) -> dict[str, object]:
        return {"detail": self.message, "duplicate_of": self.winner.pk}


@dataclass
class ImportOutcome:
    batch: ImportBatch | None  # None for a dry run
    duplicate_of: ImportBatch | None = None  # set when the identical file was imported before
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    format: str = ""
    rows: int = 0
    dry_run: bool = False

    @property
    def summary(self) -> str:
        """The counts in words: "created 8 indicators, extended 2 existing indicators, added 40 values"."""
        return import_summary(self.counts)

    def as_dict(self) -> dict[str, object]:
        """What the API returns and the upload page shows: batch id, format, row count, counts, their summary
        in words, warnings."""
        return {
            "batch": self.batch.pk if self.batch else None,
            "duplicate_of": self.duplicate_of.pk if self.duplicate_of else None,
            "dry_run": self.dry_run,
            "format": self.format,
            "rows": self.rows,
            "counts": self.counts,
            "summary": self.summary,
            "warnings": [problem.as_dict() for problem in self.warnings],
        }


class _RollBack(Exception):
    """Leaves the import's transaction so that it is rolled back: the file had errors, or this is a dry run."""


def import_file(
    *,
    file_name: str,
    content: bytes | BinaryIO,
    format: str | None = None,
    user: User | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import one file, all or nothing.

    ``content`` is the file's bytes or a seekable binary file (an upload); it is streamed, never held twice.
    The format is detected from the header unless given. Records are written in batches inside one
    transaction; when any row has an error the transaction is rolled back and ``ImportRejected`` lists every
    error (line, column, reason) — nothing is written. A file over ``PERCOLATE_IMPORT_MAX_BYTES``, empty,
    binary or not UTF-8 is rejected the same way, never with another exception.

    On success an ``ImportBatch`` records the file's SHA-256, counts and warnings; restated values keep their
    old value as a ``MeasurementRevision`` and every indicator with new or restated data gets
    ``data_changed_at`` so that the next check re-evaluates it. ``dry_run`` does all of this inside a
    transaction that is rolled back, so its counts and warnings are exact. ``progress(rows_done, rows_total)``
    is called after every batch (``rows_total`` is the file's line count, exact at the last call).

    An applied import writes one ``import.completed`` audit event in its transaction: the batch, file name,
    SHA-256, format, counts, and old and new values of the first restated measurements and changed indicators.

    Safe to repeat: an identical file imported before is recognised by its SHA-256 and changes nothing, and a
    file with the same values as stored leaves every measurement unchanged. Two imports of the same file at the
    same moment meet on the batch's unique SHA-256: the later one waits for the first to commit, then raises
    ``ImportConflict`` naming it (409)."""
    source = _checked(content)
    previous = ImportBatch.objects.filter(sha256=source.sha256).order_by("imported_at").first()
    if previous is not None:
        return _already_imported(previous, dry_run=dry_run)
    report = Report()
    try:
        outcome = _import_or_roll_back(
            source, report, file_name=file_name, format=format, user=user, dry_run=dry_run, progress=progress
        )
    except importers.FileRejected as error:
        raise ImportRejected([*report.listed_errors(), error.problem], report.listed_warnings()) from None
    except IntegrityError:
        winner = ImportBatch.objects.select_related("imported_by").filter(sha256=source.sha256).first()
        if winner is not None:  # the same file, imported at the same moment: the other one was stored first
            raise ImportConflict(winner) from None
        # Two imports writing the same (indicator, period) at once: the later one to commit loses the race.
        logger.warning("import of %s collided with a concurrent import", file_name, exc_info=True)
        problem = Problem(None, None, "another import changed the same values at the same time; import again")
        raise ImportRejected([problem]) from None
    except DataError as error:
        # The parsers check every cell the database could refuse; reaching this is a bug, but the file's
        # sender still gets a clear refusal and nothing half-written.
        logger.exception("import of %s failed in the database", file_name)
        problem = Problem(None, None, f"the file could not be stored ({error.__class__.__name__})")
        raise ImportRejected([problem]) from None
    if progress:
        progress(report.rows, report.rows)
    logger.info(
        "imported %s (%s, %d rows%s): %s", file_name, outcome.format, outcome.rows, ", dry run" if dry_run else "",
        outcome.counts,
    )  # fmt: skip
    return outcome


def _checked(content: bytes | BinaryIO, also: Callable[[bytes], object] | None = None) -> importers.Source:
    """The file checked and fingerprinted (each chunk also given to ``also``, see ``open_source``); a file that
    cannot be read at all is refused."""
    try:
        return importers.open_source(content, max_bytes=settings.PERCOLATE_IMPORT_MAX_BYTES, also=also)
    except importers.FileRejected as error:
        raise ImportRejected([error.problem]) from None


def _already_imported(previous: ImportBatch, *, dry_run: bool) -> ImportOutcome:
    """The outcome of a file identical to an earlier one: its batch, and nothing changed."""
    return ImportOutcome(
        batch=previous,
        duplicate_of=previous,
        counts=dict.fromkeys(COUNTS, 0),
        format=previous.format,
        rows=previous.rows_read,
        dry_run=dry_run,
    )


def _import_or_roll_back(
    source: importers.Source,
    report: Report,
    *,
    file_name: str,
    format: str | None,
    user: User | None,
    dry_run: bool,
    progress: Progress | None,
) -> ImportOutcome:
    """Write the file inside one transaction, rolled back when any row has an error (``ImportRejected``) or
    when this is a dry run (the outcome keeps its counts and warnings, without a batch)."""
    outcome = ImportOutcome(batch=None, dry_run=dry_run)
    try:
        with transaction.atomic():
            outcome = _write(
                source, report, file_name=file_name, format=format, user=user, dry_run=dry_run, progress=progress
            )
            if dry_run:
                raise _RollBack
    except _RollBack:
        if report.failed:
            raise ImportRejected(report.listed_errors(), report.listed_warnings()) from None
        outcome.batch = None
    return outcome


def _write(
    source: importers.Source,
    report: Report,
    *,
    file_name: str,
    format: str | None,
    user: User | None,
    dry_run: bool,
    progress: Progress | None,
) -> ImportOutcome:
    """Read the file's records into the database and record its batch; raises ``_RollBack`` when any row has
    an error (or the file has no rows), so that nothing is kept."""
    batch = ImportBatch.objects.create(file_name=file_name[:255], sha256=source.sha256, imported_by=user)
    writer = ImportWriter(batch=batch, user=user, report=report)
    batch.format, records = importers.read(source, format, report)
    total = max(source.lines, 1)
    for record in records:
        if writer.add(record) and progress:
            progress(report.rows, max(total, report.rows))
    counts = writer.finish()
    if report.rows == 0 and not report.failed:
        report.error(None, None, "the file has no data rows")
    if report.failed:
        raise _RollBack
    for name, value in counts.items():
        setattr(batch, name, value)
    batch.rows_read = report.rows
    batch.warnings = [warning.as_dict() for warning in report.listed_warnings()]
    batch.save()
    record_change(
        verb="import.completed",
        actor=user,
        actor_label="" if user else "manage.py",
        data={
            "batch": batch.pk,
            "file_name": batch.file_name,
            "sha256": batch.sha256,
            "format": batch.format,
            "rows": batch.rows_read,
            "counts": counts,
            "restated": writer.restated,
            "indicators_changed": writer.redefined,
        },
    )
    return ImportOutcome(
        batch=batch,
        counts=counts,
        warnings=report.listed_warnings(),
        format=batch.format,
        rows=report.rows,
        dry_run=dry_run,
    )
