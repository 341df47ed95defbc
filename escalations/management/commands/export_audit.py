"""python manage.py export_audit FILE — the whole audit trail for off-site keeping: every event exactly as its
hash covers it, then the signed checkpoint of its head (format: ``escalations/audit_export.py``, README)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from escalations.audit_export import export_write


class Command(BaseCommand):
    help = (
        "Write every audit event (JSON Lines, in chain order, exactly as hashed) and the signed checkpoint of the "
        "chain's head to FILE or '-'; the checkpoint is also stored when the chain verifies. Exits non-zero when "
        "the chain is broken (the file is written all the same)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="output path, or - for standard output")

    def handle(self, *args, file: str, **options):
        if file == "-":
            report, checkpoint = export_write(sys.stdout)
        else:
            try:
                with Path(file).open("w", encoding="utf-8", newline="\n") as handle:
                    report, checkpoint = export_write(handle)
            except OSError as error:
                raise CommandError(f"{file}: {error.strerror}") from None
        if not report.intact:
            raise CommandError(
                f"{report.event_count} events written to {file}, but the audit chain is broken "
                f"({report.problem_count} problems; the first: {report.problems[0]}); no checkpoint was stored"
            )
        if file != "-":  # standard output holds the export itself
            self.stdout.write(
                self.style.SUCCESS(
                    f"{report.event_count} events written to {file}, head {checkpoint.head_hash} "
                    f"(event #{checkpoint.last_event_id}), checkpoint stored"
                )
            )
