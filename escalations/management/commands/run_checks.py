"""python manage.py run_checks [--full] [--as-of DATE] [--workers] — run the threshold checks now."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from escalations.services.checks import CheckRunBusy, check_as_of_allowed, check_run_start, check_shard_execute
from indicators.models import CheckRun, CheckRunMode, CheckRunStatus, CheckShardStatus
from indicators.selectors import check_default_as_of


class Command(BaseCommand):
    help = (
        "Check the indicators against the threshold rules and open, update or recover flags. Incremental by "
        "default (what changed since the last successful run); --full re-evaluates everything."
    )
    # A run trigger, started every night: the system checks belong to deployment (``check --deploy``), and they
    # would import every URL and view first, a quarter of a second of each start.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="re-evaluate every indicator")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            help="date of the check (default: today; in the embedded demo, the date the data runs through)",
        )
        parser.add_argument("--shard-size", type=int, help="indicators per shard")
        parser.add_argument(
            "--workers",
            action="store_true",
            help="hand the shards to the Celery workers (needs REDIS_URL) and wait; default: run them here",
        )

    def handle(self, *args, **options):
        mode = CheckRunMode.FULL if options["full"] else CheckRunMode.INCREMENTAL
        as_of = options["as_of"]
        if as_of is not None:
            try:
                check_as_of_allowed(as_of)
            except InvalidInput as error:
                raise CommandError(str(error)) from None
        else:
            default = check_default_as_of()
            as_of = default.date
            self.stdout.write(f"as of {as_of}: {default.why}")
        began = time.monotonic()
        if not options["workers"]:
            # A run left unfinished here (a crashed command) is finished first: runs never overlap.
            for unfinished in CheckRun.objects.filter(status=CheckRunStatus.RUNNING):
                self.stdout.write(f"finishing run #{unfinished.pk} ({unfinished.mode} as of {unfinished.as_of}) first")
                self._execute(unfinished, began)
        try:
            run = check_run_start(
                mode=mode, as_of=as_of, shard_size=options["shard_size"], dispatch=options["workers"]
            ).run
        except CheckRunBusy as busy:
            raise CommandError(str(busy)) from None
        self.stdout.write(f"run #{run.pk}: {run.mode} check as of {run.as_of}, {run.shards_total} shard(s)")
        if options["workers"]:
            self._wait(run, began)
        else:
            self._execute(run, began)
        run.refresh_from_db()
        self.stdout.write(
            f"{run.status}: {run.indicators_evaluated} indicators evaluated, {run.flags_opened} cases opened, "
            f"{run.flags_updated} updated, {run.flags_recovered} with cleared signals "
            f"({time.monotonic() - began:.1f} s)"
        )
        if run.status == CheckRunStatus.FAILED:
            raise CommandError(run.error or "the run failed")

    def _execute(self, run: CheckRun, began: float) -> None:
        for shard in run.shards.exclude(status=CheckShardStatus.DONE).order_by("number"):
            check_shard_execute(shard_id=shard.pk)
            self._progress(CheckRun.objects.get(pk=run.pk), began)

    def _progress(self, run: CheckRun, began: float) -> None:
        self.stdout.write(
            f"  {run.shards_done}/{run.shards_total} shards ({run.progress:.0%}), "
            f"{run.indicators_evaluated} indicators, {time.monotonic() - began:.1f} s"
        )

    def _wait(self, run: CheckRun, began: float) -> None:
        done = -1
        while True:
            run.refresh_from_db()
            if run.shards_done != done:
                done = run.shards_done
                self._progress(run, began)
            if run.status != CheckRunStatus.RUNNING:
                return
            time.sleep(0.1)
