"""python manage.py import_indicators FILE [--format …] [--dry-run] [--no-progress]"""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from indicators import importers
from indicators.services import ImportConflict, ImportRejected, import_file


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second; silent when stderr is not a
    terminal unless forced."""

    def __init__(self, stream, *, label: str, enabled: bool):
        self.stream, self.label, self.enabled = stream, label, enabled
        self.started = self.drawn = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.drawn < 0.1 and done < total):
            return
        self.drawn = now
        share = min(done / total, 1.0) if total else 1.0
        rate = done / max(now - self.started, 1e-9)
        bar = "█" * int(share * 30)
        self.stream.write(f"\r{self.label} |{bar:<30}| {share:4.0%} {done:,}/{total:,} rows ({rate:,.0f} rows/s)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import an indicator file (all or nothing). The format is detected from the header when not given."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=sorted(importers.FORMATS), default=None)
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument("--progress", action="store_true", help="show the progress bar even when not a tty")
        progress.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    def handle(self, *args, file: Path, format: str | None, dry_run: bool, progress: bool, no_progress: bool, **opts):
        enabled = progress or (not no_progress and sys.stderr.isatty())
        bar = ProgressBar(sys.stderr, label=file.name[:30], enabled=enabled)
        try:
            with file.open("rb") as stream:
                outcome = import_file(file_name=file.name, content=stream, format=format, dry_run=dry_run, progress=bar)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        except ImportRejected as rejected:
            for problem in rejected.errors:
                self.stderr.write(f"error: {file.name}: {problem}")
            raise CommandError(f"{file.name}: {len(rejected.errors)} error(s); nothing was imported") from None
        except ImportConflict as conflict:
            raise CommandError(f"{file.name}: {conflict.message}") from None
        for warning in outcome.warnings:
            self.stdout.write(f"warning: {file.name}: {warning}")
        if outcome.duplicate_of is not None:
            self.stdout.write(
                f"{file.name}: identical to import batch #{outcome.duplicate_of.pk} "
                f"({timezone.localtime(outcome.duplicate_of.imported_at):%Y-%m-%d %H:%M}); nothing changed"
            )
            return
        counts = outcome.summary
        prefix = "dry run, nothing written" if dry_run or outcome.batch is None else f"batch #{outcome.batch.pk}"
        self.stdout.write(
            self.style.SUCCESS(
                f"{file.name} ({outcome.format}, {outcome.rows:,} rows, {prefix}): {counts}; "
                f"{len(outcome.warnings)} warning(s)"
            )
        )
