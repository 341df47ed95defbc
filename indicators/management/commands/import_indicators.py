"""python manage.py import_indicators FILE [--format …] [--dry-run]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from indicators import importers
from indicators.services import ImportRejected, import_file


class Command(BaseCommand):
    help = "Import an indicator file (all or nothing). The format is detected from the header when not given."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=sorted(importers.FORMATS), default=None)
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args, file: Path, format: str | None, dry_run: bool, **options):
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        try:
            outcome = import_file(file_name=file.name, content=content, format=format, dry_run=dry_run)
        except ImportRejected as rejected:
            for problem in rejected.errors:
                self.stderr.write(f"error: {file.name}: {problem}")
            raise CommandError(f"{file.name}: {len(rejected.errors)} error(s); nothing was imported") from None
        for warning in outcome.warnings:
            self.stdout.write(f"warning: {file.name}: {warning}")
        if outcome.duplicate_of is not None:
            self.stdout.write(
                f"{file.name}: identical to import batch #{outcome.duplicate_of.pk} "
                f"({timezone.localtime(outcome.duplicate_of.imported_at):%Y-%m-%d %H:%M}); nothing changed"
            )
            return
        counts = ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in outcome.counts.items())
        prefix = "dry run, nothing written" if dry_run else f"batch #{outcome.batch.pk}"
        self.stdout.write(self.style.SUCCESS(f"{file.name} ({prefix}): {counts}; {len(outcome.warnings)} warning(s)"))
