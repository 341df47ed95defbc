"""python manage.py verify_audit [--file EXPORT | --against EXPORT] — verify the audit trail in the database,
an export file offline, or the database against an export (after a restore).

Verifying writes nothing: it can run against a restored copy or a read-only replica without changing the
evidence it checks (the nightly verification and ``export_audit`` are what store checkpoints)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from escalations.audit_export import ExportCheck, export_verify
from escalations.audit_trail import ChainProblem, audit_trail_walk

SHOWN = 50  # problems listed; the count says how many more


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain and check that it still reaches every checkpoint. --file: check "
        "an export file instead, without the database. --against: check the file, then that the database's "
        "chain reaches the file's checkpoint (nothing the export held was lost). Exits non-zero naming each problem."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--file", help="an export_audit file to check offline (no database access)")
        source.add_argument("--against", metavar="FILE", help="an export_audit file the database must still hold")
        parser.add_argument(
            "--skip-signature",
            action="store_true",
            help="do not check the file's checkpoint signature (for someone without PERCOLATE_AUDIT_KEY)",
        )

    def handle(self, *args, file=None, against=None, skip_signature=False, **options):
        export = None
        if file or against:
            export = self.verify_file(file or against, check_signature=not skip_signature)
            if file:
                return
        label = f"the checkpoint of {against} ({export.checkpoint['created_at']})" if export else ""
        report = audit_trail_walk(also_reach=[export.head(label)] if export else ())
        if not report.intact:
            self.fail("audit chain broken", report.problems, report.problem_count)
        head = f"event #{report.last_event_id}, hash {report.head_hash}" if report.event_count else "empty"
        reaches = (
            f"reaches every checkpoint ({report.heads_checked})"
            if report.heads_checked
            else "no checkpoint yet (a cut tail shows only once a checkpoint records the head)"
        )
        also = f", including {label}" if export else ""
        self.stdout.write(
            self.style.SUCCESS(f"audit chain intact: {report.event_count} events, head {head}; {reaches}{also}")
        )

    def verify_file(self, file: str, *, check_signature: bool) -> ExportCheck:
        try:
            with Path(file).open(encoding="utf-8", newline="\n") as handle:
                check = export_verify(handle, check_signature=check_signature)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text, so not an export") from None
        if not check.intact:
            self.fail(f"export {file} fails verification", check.problems, check.problem_count)
        written = (check.checkpoint or {}).get("created_at")  # an intact file has its checkpoint
        head = f"event #{check.last_event_id}, hash {check.head_hash}" if check.event_count else "empty"
        signature = "signature checked" if check.signature_checked else "signature NOT checked (--skip-signature)"
        self.stdout.write(
            self.style.SUCCESS(
                f"export intact: {check.event_count} events, head {head}, as its checkpoint of {written} "
                f"recorded; {signature}"
            )
        )
        return check

    def fail(self, what: str, problems: list[ChainProblem], count: int) -> None:
        if count == 1:
            raise CommandError(f"{what}: {problems[0]}")
        for problem in problems[:SHOWN]:
            self.stderr.write(str(problem))
        more = f", the first {SHOWN} listed above" if count > SHOWN else ", listed above"
        raise CommandError(f"{what}: {count} problems{more}; the first: {problems[0]}")
