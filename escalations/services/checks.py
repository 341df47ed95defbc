"""Check runs: the run ledger, its shards, and executing a shard (detection + case upsert, one transaction).

The nightly job's run is one row per (as_of, mode): the job delivered twice finds the row and does nothing
more. A person's "run now" always runs. A second run while one is running is refused by the database
(``checkrun_one_running``), so runs never overlap. A run is split into shards over indicator id ranges that
any number of workers execute in parallel; each shard commits its flags, its events and "I am done" together,
and the shard that completes the count finishes the run."""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.permissions import Capability, require
from indicators.detection import evaluate
from indicators.models import (
    CheckRun,
    CheckRunMode,
    CheckRunStatus,
    CheckRunTrigger,
    CheckShard,
    CheckShardStatus,
    Measurement,
    ThresholdRule,
)

from ..audit_trail import Verb
from ..models import OutboxKind, OutboxMessage
from .detection import dated_watch, flags_apply_evaluation
from .events import event_record
from .outbox import outbox_put_many

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


class CheckRunBusy(Conflict):
    """Another check run is running; runs never overlap (409)."""


@dataclass
class RunStart:
    run: CheckRun
    created: bool  # False: the ledger already had this (as_of, mode), nothing new was started


def _shard_bounds(size: int, changed_since: dt.datetime | None = None) -> list[tuple[int, int]]:
    """Id ranges [lo, hi) of about ``size`` active indicators each, computed in the database; with
    ``changed_since``, counting (and covering) only the indicators whose data changed since then."""
    where, params = "active", []
    if changed_since is not None:
        where, params = "active AND data_changed_at >= %s", [changed_since]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MIN(id), MAX(id) FROM indicators_indicator WHERE {where}", params)
        count, first, last = cursor.fetchone()
        if count <= size:  # one shard or none: no need to number every indicator
            return [(first, last + 1)] if count else []
        cursor.execute(
            f"SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM indicators_indicator "
            f"WHERE {where}) numbered WHERE (rn - 1) %% %s = 0 ORDER BY id",
            [*params, size],
        )
        starts = [row[0] for row in cursor.fetchall()]
    return [(lo, starts[i + 1] if i + 1 < len(starts) else last + 1) for i, lo in enumerate(starts)]


def _dispatch_shards(shard_ids: Iterable[int]) -> None:
    """Owe one ``check_shard`` task per shard: outbox messages in the caller's transaction, handed to the
    broker by the dispatcher (see ``services.outbox``)."""
    outbox_put_many(OutboxKind.CHECK_SHARD, [{"shard": shard_id} for shard_id in shard_ids])


def _incremental_scope(as_of: dt.date) -> tuple[dt.datetime | None, bool]:
    """What an incremental run as of ``as_of`` re-evaluates: (changed since, date moved). ``since`` is the start
    of the previous successful run (``None``: everything); ``date moved``: a later date than last time."""
    last = (
        CheckRun.objects.filter(status=CheckRunStatus.SUCCEEDED, started_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    if last is None or ThresholdRule.objects.filter(updated_at__gte=last.started_at).exists():
        return None, False
    # An earlier date than last time moves the latest period of any indicator: everything is re-checked.
    if last.as_of > as_of:
        return None, False
    # Only the indicators with new data can answer differently: the shards cover just those (none at all on a
    # night without data and with the same date). A later date changes the answer of the date-dependent rules
    # (stale) without new data: their other pairs get shards of their own, over every indicator.
    return last.started_at, last.as_of != as_of


# How far ahead a run may look: a run checks what is due by its date, and a week covers planning ahead.
AS_OF_AHEAD = dt.timedelta(days=7)


def check_as_of_allowed(as_of: dt.date) -> None:
    """The date a person may ask a run for lies between the earliest measured period and a week from today:
    before the data begins nothing can be checked, and far ahead every indicator would look overdue. (The
    page, the API and ``manage.py run_checks --as-of`` check it; the schedule always runs as of today.)"""
    latest = timezone.localdate() + AS_OF_AHEAD
    if as_of <= latest and Measurement.objects.filter(period__lte=as_of).exists():
        return  # a period measured on or before it: no need to find the earliest (a scan of every value)
    earliest = Measurement.objects.aggregate(first=Min("period"))["first"]
    if as_of > latest or (earliest is not None and as_of < earliest):
        since = f"{earliest:%Y-%m-%d}, the earliest measured period, " if earliest is not None else ""
        raise InvalidInput({"as_of": f"Choose a date from {since}to {latest:%Y-%m-%d}, a week from today."})


def check_run_start(
    *,
    mode: str,
    as_of: dt.date,
    trigger: str = CheckRunTrigger.MANUAL,
    requested_by: "User | None" = None,
    shard_size: int | None = None,
    dispatch: bool = True,
) -> RunStart:
    """Open a run for (as_of, mode) as ``running`` and plan its shards; with ``dispatch``, owe one Celery task
    per shard (outbox messages in the run's transaction; eager in the embedded mode: they run before this
    returns).

    The nightly schedule (``trigger=nightly``) is de-duplicated by the ledger: when it already holds a
    nightly run for (as_of, mode), that run is returned with ``created=False`` (a failed one is reopened, its
    unfinished shards get fresh attempts, and re-dispatched). A run started by a person always runs, with the
    rule edits and data of the day, if ``requested_by`` may configure Percolate (``ActionForbidden``
    otherwise) and the date is one a person may ask for (``check_as_of_allowed``), and writes one
    ``check_run.started`` event (who — ``manage.py run_checks`` when no signed-in user —, as of, mode) in the
    run's transaction. Raises ``CheckRunBusy`` when another run is running.

    Incremental runs re-evaluate the indicators whose data changed since the start of the previous successful
    run; everything when there is none, when a rule was edited since (rules may apply to any indicator and
    each indicator's colour needs all of its rules) or when the date is earlier than last time."""
    began = timezone.now()  # the run's start: its plan (what changed, the shards) is part of it
    if requested_by is not None:
        require(requested_by, Capability.CONFIGURE)
        check_as_of_allowed(as_of)
    if trigger == CheckRunTrigger.NIGHTLY:
        existing = CheckRun.objects.filter(as_of=as_of, mode=mode, trigger=trigger).first()
        if existing is not None:
            if existing.status == CheckRunStatus.FAILED:
                _reopen(existing, dispatch=dispatch)
            return RunStart(existing, created=False)
    since, date_moved = _incremental_scope(as_of) if mode == CheckRunMode.INCREMENTAL else (None, False)
    size = shard_size or settings.PERCOLATE_CHECK_SHARD_SIZE
    plan = [(lo, hi, False) for lo, hi in _shard_bounds(size, since)]
    if date_moved:
        plan += [(lo, hi, True) for lo, hi in _shard_bounds(settings.PERCOLATE_CHECK_DATED_SHARD_SIZE)]
    try:
        with transaction.atomic():
            run = CheckRun.objects.create(
                mode=mode,
                as_of=as_of,
                trigger=trigger,
                requested_by=requested_by,
                status=CheckRunStatus.RUNNING,
                started_at=began,
                changes_since=since,
            )
            shards = CheckShard.objects.bulk_create(
                CheckShard(run=run, number=n, lo_id=lo, hi_id=hi, dated_only=dated_only)
                for n, (lo, hi, dated_only) in enumerate(plan, 1)
            )
            run.shards_total = len(shards)
            if not shards:
                run.status, run.finished_at = CheckRunStatus.SUCCEEDED, timezone.now()
            run.save(update_fields=["shards_total", "status", "finished_at"])
            _record_start(run, requested_by)
            if dispatch:
                _dispatch_shards(shard.pk for shard in shards)
    except IntegrityError:
        existing = CheckRun.objects.filter(as_of=as_of, mode=mode, trigger=trigger).first()
        if trigger == CheckRunTrigger.NIGHTLY and existing is not None:
            # The nightly job delivered twice at the same moment: the other delivery runs it.
            return RunStart(existing, created=False)
        running = CheckRun.objects.filter(status=CheckRunStatus.RUNNING).first()
        raise CheckRunBusy(f"another check is running: {running}") from None
    logger.info("check run #%s (%s, as of %s): %s shards", run.pk, mode, as_of, run.shards_total)
    return RunStart(run, created=True)


def _record_start(run: CheckRun, requested_by: "User | None") -> None:
    """The ``check_run.started`` event of a run started by hand, in the run's transaction (the nightly
    schedule's runs are not a person's change: the run ledger records them)."""
    if run.trigger != CheckRunTrigger.MANUAL:
        return
    event_record(
        verb=Verb.CHECK_RUN_STARTED,
        actor=requested_by,
        actor_label="" if requested_by else "manage.py run_checks",
        data={"run": run.pk, "as_of": run.as_of, "mode": run.mode, "shards": run.shards_total},
    )


def _reopen(run: CheckRun, *, dispatch: bool) -> None:
    try:
        with transaction.atomic():
            if not CheckRun.objects.filter(pk=run.pk, status=CheckRunStatus.FAILED).update(
                status=CheckRunStatus.RUNNING, error="", finished_at=None
            ):
                return
            unfinished = run.shards.exclude(status=CheckShardStatus.DONE)
            ids = list(unfinished.values_list("pk", flat=True))
            unfinished.update(status=CheckShardStatus.PENDING, attempts=0, error="")
            if dispatch:
                _dispatch_shards(ids)
    except IntegrityError:
        raise CheckRunBusy("another check is running") from None
    run.refresh_from_db()


def _fail(shard_id: int, run_id: int, error: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        CheckShard.objects.filter(pk=shard_id).update(status=CheckShardStatus.FAILED, error=error, finished_at=now)
        CheckRun.objects.filter(pk=run_id, status=CheckRunStatus.RUNNING).update(
            status=CheckRunStatus.FAILED, error=error, finished_at=now
        )


def check_shard_execute(*, shard_id: int) -> CheckShard | None:
    """Execute one shard: detect breaches for its id range and apply them to the flags, then mark the shard
    done and add its counts to the run, all in one transaction; the shard that completes the count marks the
    run ``succeeded``. Flag statuses, events: see ``flags_apply_evaluation``.

    Safe to repeat and to deliver twice at once: a done shard is skipped, and a concurrent duplicate waits on
    the shard's row lock and then finds it done. Each execution first counts an attempt in its own
    transaction, so a worker killed mid-shard still uses one up; past ``PERCOLATE_CHECK_MAX_ATTEMPTS`` the
    shard and its run fail. Returns the shard, or ``None`` when there was nothing to do."""
    now = timezone.now()
    if not CheckShard.objects.filter(pk=shard_id, run__status=CheckRunStatus.RUNNING).exists():
        return None
    with transaction.atomic():
        # Only the shard's own columns in this WHERE: Django turns a filter across a relation into
        # "id IN (subquery)", and when this UPDATE waits for a concurrent duplicate to commit, PostgreSQL
        # re-checks the row but not the subquery, so it would flip a just-finished shard back to running.
        claimed = CheckShard.objects.filter(
            pk=shard_id, status__in=[CheckShardStatus.PENDING, CheckShardStatus.RUNNING]
        ).update(status=CheckShardStatus.RUNNING, attempts=F("attempts") + 1, started_at=now)
    if not claimed:
        return None
    shard = CheckShard.objects.select_related("run").get(pk=shard_id)
    if shard.attempts > settings.PERCOLATE_CHECK_MAX_ATTEMPTS:
        _fail(shard.pk, shard.run_id, f"shard {shard.number} gave up after {shard.attempts - 1} attempts")
        return None
    try:
        with transaction.atomic():
            shard = CheckShard.objects.select_for_update().get(pk=shard_id)
            if shard.status != CheckShardStatus.RUNNING:  # a duplicate delivery finished it while we waited
                return None
            run = CheckRun.objects.get(pk=shard.run_id)
            if run.status != CheckRunStatus.RUNNING:  # failed meanwhile (another shard gave up)
                return None
            evaluation = evaluate(
                lo_id=shard.lo_id,
                hi_id=shard.hi_id,
                as_of=run.as_of,
                changes_since=run.changes_since,
                dated_only=shard.dated_only,
                watch=dated_watch(lo_id=shard.lo_id, hi_id=shard.hi_id) if shard.dated_only else (),
            )
            counts = flags_apply_evaluation(evaluation=evaluation, lo_id=shard.lo_id, hi_id=shard.hi_id, run_id=run.pk)
            _test_pause()
            shard.status, shard.finished_at, shard.error = CheckShardStatus.DONE, timezone.now(), ""
            shard.indicators_evaluated = evaluation.indicators
            shard.flags_opened, shard.flags_updated, shard.flags_recovered = (
                counts.opened,
                counts.updated,
                counts.recovered,
            )
            shard.save()
            # Row-locks the run until commit: shards finishing at the same moment count one after the other,
            # so exactly one of them sees the count complete.
            CheckRun.objects.filter(pk=run.pk).update(
                shards_done=F("shards_done") + 1,
                indicators_evaluated=F("indicators_evaluated") + evaluation.indicators,
                flags_opened=F("flags_opened") + counts.opened,
                flags_updated=F("flags_updated") + counts.updated,
                flags_recovered=F("flags_recovered") + counts.recovered,
            )
            CheckRun.objects.filter(
                Q(pk=run.pk, status=CheckRunStatus.RUNNING) & Q(shards_done__gte=F("shards_total"))
            ).update(status=CheckRunStatus.SUCCEEDED, finished_at=timezone.now())
    except Exception as error:
        CheckShard.objects.filter(pk=shard_id, status=CheckShardStatus.RUNNING).update(
            status=CheckShardStatus.PENDING, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    return shard


def _test_pause() -> None:
    # Integration tests kill a worker in the middle of a shard; this widens "the middle" on purpose.
    # Zero (no pause) everywhere else.
    delay = settings.PERCOLATE_CHECK_TEST_PAUSE_SECONDS
    if delay:
        import time

        time.sleep(delay)


def check_shards_sweep(*, stuck_after: dt.timedelta | None = None) -> int:
    """Re-queue the shards of running runs that have not finished within ``stuck_after`` (default:
    ``PERCOLATE_CHECK_STUCK_AFTER``, the shard time limit plus a minute) — messages the broker lost after the
    outbox handed them over, dead workers; a shard whose outbox message is still waiting is left to it.
    Changes no status itself: the re-queued task
    claims the shard as usual, and a shard out of attempts fails its run there. Returns the number re-queued.
    Safe to repeat: a shard queued twice runs once."""
    if stuck_after is None:
        stuck_after = dt.timedelta(seconds=settings.PERCOLATE_CHECK_STUCK_AFTER)
    cutoff = timezone.now() - stuck_after
    stuck = CheckShard.objects.filter(run__status=CheckRunStatus.RUNNING).filter(
        Q(status=CheckShardStatus.RUNNING, started_at__lt=cutoff)
        | Q(status=CheckShardStatus.PENDING, run__started_at__lt=cutoff)
    )
    # A shard whose message still waits in the outbox (the broker is down, say) is owed already.
    waiting = OutboxMessage.objects.filter(kind=OutboxKind.CHECK_SHARD, delivered_at=None, failed_at=None)
    owed = {message["shard"] for message in waiting.values_list("payload", flat=True)}
    ids = [pk for pk in stuck.values_list("pk", flat=True) if pk not in owed]
    if ids:
        logger.warning("re-queuing %s stuck check shard(s): %s", len(ids), ids)
        with transaction.atomic():
            _dispatch_shards(ids)
    return len(ids)
