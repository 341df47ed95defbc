"""python manage.py verify_audit [--file EXPORT] — verify the audit trail in the database, or an export file
offline.

Verifying the database writes nothing: it can run against a restored copy or a read-only replica without
changing the evidence it checks (the nightly verification is what stores checkpoints)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from escalations.audit_export import export_verify
from escalations.audit_trail import ChainProblem, audit_trail_walk

SHOWN = 50  # problems listed; the count says how many more


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain and check that it still reaches every checkpoint; with --file, "
        "check an export file instead, without the database. Exits non-zero naming each problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="an export_audit file to check offline (no database access)")
        parser.add_argument(
            "--skip-signature",
            action="store_true",
            help="with --file: do not check the checkpoint's signature (for someone without PERCOLATE_AUDIT_KEY)",
        )

    def handle(self, *args, file: str | None = None, skip_signature: bool = False, **options):
        if file:
            self.verify_file(file, check_signature=not skip_signature)
            return
        report = audit_trail_walk()
        if not report.intact:
            self.fail("audit chain broken", report.problems, report.problem_count)
        head = f"event #{report.last_event_id}, hash {report.head_hash}" if report.event_count else "empty"
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {report.event_count} events, head {head}; "
                f"reaches all {report.heads_checked} checkpoints"
            )
        )

    def verify_file(self, file: str, *, check_signature: bool) -> None:
        try:
            with Path(file).open(encoding="utf-8", newline="\n") as handle:
                check = export_verify(handle, check_signature=check_signature)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text, so not an export") from None
        if not check.intact:
            self.fail(f"export {file} fails verification", check.problems, len(check.problems))
        written = (check.checkpoint or {}).get("created_at")  # an intact file has its checkpoint
        signature = "signature checked" if check.signature_checked else "signature NOT checked (--skip-signature)"
        self.stdout.write(
            self.style.SUCCESS(
                f"export intact: {check.event_count} events, head event #{check.last_event_id}, hash "
                f"{check.head_hash}, as its checkpoint of {written} recorded; {signature}"
            )
        )

    def fail(self, what: str, problems: list[ChainProblem], count: int) -> None:
        for problem in problems[:SHOWN]:
            self.stderr.write(str(problem))
        more = f" (the first {SHOWN} listed)" if count > SHOWN else ""
        raise CommandError(f"{what}: {count} problem{'s' if count != 1 else ''}{more}; the first: {problems[0]}")
