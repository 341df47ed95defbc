"""Check runs: the ledger, incremental runs, shards that fail or get stuck, the real NYC file, running twice
and running concurrently."""

import csv
import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.permissions import Role
from escalations.models import Event, Flag, Signal
from escalations.services.checks import CheckRunBusy, check_run_start, check_shard_execute, check_shards_sweep
from escalations.tasks import check_shard, nightly_checks
from indicators.detection import evaluate
from indicators.models import CheckRun, CheckShard, Direction, Measurement, RuleKind, ThresholdRule
from indicators.services import import_file, indicator_tune

from ...conftest import require_service

REAL_FILE = Path(settings.BASE_DIR) / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"
AS_OF = dt.date(2022, 10, 31)


def _snapshot() -> list[tuple]:
    """Everything detection writes on cases and signals, except when a signal was last seen."""
    cases = Flag.objects.values_list(
        "indicator_id", "category", "status", "severity", "beyond", "recovered_at", "previous_flag_id"
    )
    signals = Signal.objects.values_list(
        "flag_id", "rule_id", "severity", "period", "value", "baseline", "change", "measure", "cleared_at"
    )
    return sorted(cases) + sorted(signals)


# ---- the shipped NYC file, expected sets computed with plain Python over the CSV ----------------------------


def _csv_rows() -> list[dict]:
    with REAL_FILE.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _number(text: str) -> Decimal | None:
    return None if text.strip().upper() in ("", "NA") else Decimal(text)


def _strictly_worse(value: Decimal, baseline: Decimal, direction: str) -> bool:
    return {"Up": value < baseline, "Down": value > baseline}.get(direction, value != baseline)


@pytest.fixture
def nyc(db):
    import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())


def _flagged_external_ids() -> set[str]:
    return set(Flag.objects.values_list("indicator__external_id", flat=True))


def test_real_file_target_at_zero_flags_exactly_the_indicators_worse_than_target(nyc, only_rule, run_check):
    only_rule(RuleKind.TARGET, 0, 0)
    run_check(AS_OF)
    expected = {
        row["ID"]
        for row in _csv_rows()
        if _number(row["2023"]) is not None
        and _number(row["Target.MMR"]) is not None
        and _strictly_worse(_number(row["2023"]), _number(row["Target.MMR"]), row["Desired.Direction"])
    }
    assert len(expected) > 100
    assert _flagged_external_ids() == expected
    assert set(Signal.objects.values_list("period", flat=True)) == {dt.date(2022, 7, 1)}


def test_real_file_year_over_year_at_zero_flags_exactly_the_indicators_worse_than_fy2022(nyc, only_rule, run_check):
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 0)
    run_check(AS_OF)
    expected = {
        row["ID"]
        for row in _csv_rows()
        if _number(row["2023"]) is not None
        and _number(row["2022"]) is not None
        and _strictly_worse(_number(row["2023"]), _number(row["2022"]), row["Desired.Direction"])
    }
    assert len(expected) > 300
    assert _flagged_external_ids() == expected


def test_default_rules_on_the_real_file_flag_performance_and_data_quality_apart(nyc, run_check):
    run = run_check(AS_OF)
    assert run.status == "succeeded" and run.indicators_evaluated == 1139
    kinds = set(Signal.objects.values_list("rule__kind", "flag__category"))
    assert ("unusual_change", "performance") in kinds and ("target", "performance") in kinds
    assert ("impossible_value", "data_quality") in kinds  # "Annual pruning goal completed (%)": 108 …
    assert all(category == "data_quality" for kind, category in kinds if kind in ("stale", "impossible_value"))


# ---- running twice, the ledger, overlapping runs -----------------------------------------------------------


def test_running_the_same_check_twice_writes_nothing_the_second_time(nyc, run_check):
    run_check(AS_OF)
    flags = list(Flag.objects.order_by("id").values())
    snapshot = _snapshot()
    case_events = Event.objects.filter(flag__isnull=False)
    events = case_events.count()
    run = run_check(AS_OF)  # a person's "run now" always runs…
    assert list(Flag.objects.order_by("id").values()) == flags  # …and on the same data changes no case
    assert (_snapshot(), case_events.count(), run.indicators_evaluated) == (snapshot, events, 1139)
    # The next day's check re-evaluates everything and finds nothing new to record.
    before = _snapshot()
    run = run_check(AS_OF + dt.timedelta(days=1))
    assert (_snapshot(), case_events.count()) == (before, events)
    # What is recorded is that the runs were started by hand: one event each.
    assert Event.objects.filter(verb="check_run.started").count() == 3
    assert (run.flags_opened, run.flags_updated, run.flags_recovered) == (0, 0, 0)


def test_the_ledger_returns_the_existing_nightly_run(db):
    first = check_run_start(mode="full", as_of=AS_OF, trigger="nightly", dispatch=False)
    second = check_run_start(mode="full", as_of=AS_OF, trigger="nightly", dispatch=False)
    assert first.created and not second.created and second.run.pk == first.run.pk


def test_a_run_started_by_a_person_always_runs_with_the_rule_edits_of_the_day(series, only_rule, run_check):
    rule = only_rule(RuleKind.YEAR_OVER_YEAR, 10, 20)
    series([100, 94])
    assert run_check(AS_OF, full=False).flags_opened == 0
    rule.yellow = Decimal(5)
    rule.save()
    again = run_check(AS_OF, full=False)  # the same date and mode, minutes later
    assert (again.indicators_evaluated, again.flags_opened, CheckRun.objects.count()) == (1, 1, 2)


def test_two_runs_never_overlap(series, db):
    series([1, 2])
    check_run_start(mode="full", as_of=AS_OF, dispatch=False)
    with pytest.raises(CheckRunBusy):
        check_run_start(mode="incremental", as_of=AS_OF, dispatch=False)


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_once_produce_the_same_flags_as_one(series, only_rule):
    # Real concurrency needs a server database: the test suite's in-memory SQLite locks whole tables.
    require_service("PostgreSQL", connection.vendor == "postgresql")
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 10)
    for i in range(40):
        series([100, 100 - i % 7], desired_direction=Direction.UP if i % 3 else Direction.DOWN)
    barrier, asked = threading.Barrier(2), threading.Barrier(2)
    outcomes = []

    def start():
        try:
            barrier.wait()
            try:
                run = check_run_start(mode="full", as_of=AS_OF, dispatch=False, shard_size=5).run
            except CheckRunBusy:
                run = None
            # Both have asked before either runs its shards: on a loaded machine one thread could otherwise
            # finish its whole run before the other asks, and a run after a finished one is a new run.
            asked.wait()
            if run is None:
                outcomes.append("busy")
                return
            for shard in run.shards.order_by("number"):
                check_shard_execute(shard_id=shard.pk)
            outcomes.append(run.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2 and CheckRun.objects.count() == 1
    run = CheckRun.objects.get()
    # Every shard ran exactly once: counted once, none left behind.
    assert (run.status, run.shards_done, run.indicators_evaluated) == ("succeeded", 8, 40)
    assert not CheckShard.objects.exclude(status="done").exists()
    # The same flags one run opens: exactly the breaches of the data, once each, one event each. (Compared
    # with the engine's own answer rather than a second run: audit events cannot be deleted to start over.)
    expected = {(b.indicator_id, b.rule_id, b.severity) for b in evaluate(lo_id=0, hi_id=10**12, as_of=AS_OF).breaches}
    assert set(Signal.objects.values_list("flag__indicator_id", "rule_id", "severity")) == expected
    assert Flag.objects.count() == Event.objects.filter(flag__isnull=False).count() == len(expected) == 22
    assert Event.objects.filter(verb="check_run.started").count() == 1  # the run that started, not the busy one


# ---- incremental runs ---------------------------------------------------------------------------------------


def test_incremental_run_evaluates_only_changed_data_or_rules(series, only_rule, run_check):
    rule = only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicators = [series([100, 100]) for _ in range(5)]
    first = run_check(AS_OF, full=False)  # no previous run: everything
    assert first.indicators_evaluated == 5
    assert run_check(AS_OF + dt.timedelta(days=1), full=False).indicators_evaluated == 0
    # New data for one indicator (as the importer records it).
    changed = indicators[2]
    Measurement.objects.create(indicator=changed, period=dt.date(2017, 7, 1), value=Decimal(50))
    type(changed).objects.filter(pk=changed.pk).update(data_changed_at=dt.datetime.now(dt.UTC))
    run = run_check(AS_OF + dt.timedelta(days=2), full=False)
    assert (run.indicators_evaluated, run.flags_opened) == (1, 1)
    # A rule edit re-evaluates the indicators it applies to.
    rule.yellow = Decimal(1)
    rule.save()
    assert run_check(AS_OF + dt.timedelta(days=3), full=False).indicators_evaluated == 5


def test_same_date_without_new_data_plans_no_shards(series, only_rule, run_check):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicators = [series([100, 100]) for _ in range(6)]
    run_check(AS_OF, shard_size=2)
    quiet = run_check(AS_OF, full=False, shard_size=2)
    assert (quiet.status, quiet.shards_total, quiet.indicators_evaluated) == ("succeeded", 0, 0)
    changed = indicators[4]
    Measurement.objects.create(indicator=changed, period=dt.date(2017, 7, 1), value=Decimal(50))
    type(changed).objects.filter(pk=changed.pk).update(data_changed_at=dt.datetime.now(dt.UTC))
    run = run_check(AS_OF, full=False, shard_size=2)
    assert (run.shards_total, run.indicators_evaluated, run.flags_opened) == (1, 1, 1)


def test_date_dependent_rules_are_rechecked_when_the_date_moves(series, only_rule, run_check):
    only_rule(RuleKind.STALE, 0, 30)
    series([1, 2], start=dt.date(2020, 7, 1))
    assert run_check(AS_OF).indicators_evaluated == 1
    assert run_check(AS_OF, full=False).indicators_evaluated == 0  # same date, no new data: nothing can change
    assert run_check(AS_OF + dt.timedelta(days=1), full=False).indicators_evaluated == 1


def test_after_the_date_moved_an_incremental_run_ends_where_a_full_check_would(series, run_check, settings):
    # The seeded default rules, stale among them. Annual series whose latest value is FY2018 (July 2017): the
    # FY2019 value is due at the end of June 2019, so with 30 days' grace they are on time in mid-July 2019
    # and overdue in mid-September.
    settings.PERCOLATE_CHECK_DATED_SHARD_SIZE = 3
    indicators = [series([100, 90 + i, 80 + 5 * i], desired_direction=Direction.UP) for i in range(6)]
    first = run_check(dt.date(2019, 7, 15), shard_size=2)
    assert not Signal.objects.filter(rule__kind=RuleKind.STALE).exists()
    opened_before = first.flags_opened
    # Two indicators get their FY2019 value (one better, one much worse), as the importer records it.
    for indicator, value in [(indicators[1], 120), (indicators[4], 10)]:
        Measurement.objects.create(indicator=indicator, period=dt.date(2018, 7, 1), value=Decimal(value))
        type(indicator).objects.filter(pk=indicator.pk).update(data_changed_at=dt.datetime.now(dt.UTC))

    as_of = dt.date(2019, 9, 15)
    run = run_check(as_of, full=False, shard_size=2)

    # Shards: one for the two changed indicators (all their rules), then the stale rule of the other four in
    # shards of three indicators each (the changed ones among them are left out).
    assert [(s.dated_only, s.indicators_evaluated) for s in run.shards.order_by("number")] == [
        (False, 2),
        (True, 2),
        (True, 2),
    ]
    assert run.indicators_evaluated == 6
    expected = evaluate(lo_id=0, hi_id=10**12, as_of=as_of).breaches
    active = Signal.objects.filter(cleared_at__isnull=True)
    assert sorted(active.values_list("flag__indicator_id", "rule_id", "severity", "period", "value")) == sorted(
        (b.indicator_id, b.rule_id, b.severity, b.period, b.value) for b in expected
    )
    stale = active.filter(rule__kind=RuleKind.STALE).values_list("flag__indicator_id", flat=True)
    assert set(stale) == {indicators[i].pk for i in (0, 2, 3, 5)}
    # Every flag opened by either run has exactly one "detected" event: the shards never overlapped.
    detected = Event.objects.filter(verb="flag.detected")
    assert detected.count() == len(set(detected.values_list("flag_id", flat=True))) == Flag.objects.count()
    assert run.flags_opened == Flag.objects.count() - opened_before


def test_a_rule_edited_since_the_last_run_rechecks_every_indicator_once(series, run_check):
    # An edited rule may apply to any indicator, and an indicator's colour needs all of its rules: every
    # indicator is evaluated whole, the stale rule with the others (no shards of its own).
    for i in range(4):
        series([100, 90 + i, 80])
    run_check(AS_OF)
    rule = ThresholdRule.objects.filter(kind=RuleKind.UNUSUAL_CHANGE, scope="all", active=True).first()
    rule.yellow = Decimal(1)
    rule.save()
    run = run_check(AS_OF + dt.timedelta(days=1), full=False)
    assert {s.dated_only for s in run.shards.all()} == {False}
    assert run.indicators_evaluated == 4


def test_a_tolerance_set_by_a_liaison_is_applied_by_the_next_incremental_run(series, only_rule, run_check, make_user):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    tuned, _other = series([100, 100, 93]), series([100, 100, 93])  # 7 % worse: yellow
    run_check(AS_OF)
    indicator_tune(
        indicator=tuned, actor=make_user(Role.OPS_LEAD), tolerance=Decimal(8), tolerance_rationale="Seasonal staffing"
    )
    run = run_check(AS_OF, full=False)
    assert (run.indicators_evaluated, run.flags_recovered) == (1, 1)
    assert Flag.objects.get(indicator=tuned).recovered_at is not None


def test_an_incremental_run_for_an_earlier_date_rechecks_everything(series, only_rule, run_check):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    for _ in range(3):
        series([100, 100, 80])
    run_check(AS_OF)
    earlier = run_check(dt.date(2017, 1, 31), full=False)  # before the FY2018 fall: FY2017 equals FY2016
    assert (earlier.indicators_evaluated, earlier.flags_recovered) == (3, 3)


# ---- failures, attempts, the sweeper -----------------------------------------------------------------------


def test_a_shard_that_keeps_failing_fails_its_run_and_can_be_rerun(series, only_rule, settings, monkeypatch):
    settings.PERCOLATE_CHECK_MAX_ATTEMPTS = 2
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    series([100, 50])
    run = check_run_start(mode="full", as_of=AS_OF, trigger="nightly", dispatch=False).run
    shard = run.shards.get()

    def broken(**kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("escalations.services.checks.evaluate", broken)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            check_shard_execute(shard_id=shard.pk)
    assert check_shard_execute(shard_id=shard.pk) is None  # third attempt: gives up
    run.refresh_from_db()
    assert run.status == "failed" and "gave up" in run.error and not Flag.objects.exists()
    monkeypatch.undo()
    again = check_run_start(mode="full", as_of=AS_OF, trigger="nightly", dispatch=False)  # delivered again
    assert not again.created and again.run.status == "running"
    check_shard_execute(shard_id=shard.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and Flag.objects.count() == 1


def test_the_sweeper_requeues_stuck_shards(series, only_rule, django_capture_on_commit_callbacks):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    series([100, 50])
    run = check_run_start(mode="full", as_of=AS_OF, dispatch=False).run  # as if the messages were lost
    with django_capture_on_commit_callbacks(execute=True):
        requeued = check_shards_sweep(stuck_after=dt.timedelta(0))
    run.refresh_from_db()
    assert requeued == 1 and run.status == "succeeded" and Flag.objects.count() == 1


# ---- the command and the tasks (eager) ---------------------------------------------------------------------


def test_run_checks_command_prints_progress_and_counts(series, only_rule, capsys):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    series([100, 50])
    series([100, 100])
    call_command("run_checks", "--full", "--as-of", "2022-10-31", "--shard-size", "1")
    out = capsys.readouterr().out
    assert "2/2 shards (100%)" in out
    assert "succeeded: 2 indicators evaluated, 1 cases opened, 0 updated, 0 with cleared signals" in out
    call_command("run_checks", "--full", "--as-of", "2022-10-31")  # "run now" runs again: nothing new
    assert "succeeded: 2 indicators evaluated, 0 cases opened, 0 updated" in capsys.readouterr().out


def test_run_checks_without_a_date_uses_the_configured_default(series, only_rule, capsys, settings):
    settings.PERCOLATE_BLANK_AS_OF = "data"
    only_rule(RuleKind.STALE, 0, 30)
    series([100, 50], start=dt.date(2020, 7, 1))  # FY2021 and FY2022: the data runs through 2022-06-30
    call_command("run_checks")
    assert "as of 2022-06-30: the date the data runs through" in capsys.readouterr().out
    assert CheckRun.objects.get().as_of == dt.date(2022, 6, 30) and not Flag.objects.exists()  # no gap as of then


def test_nightly_job_runs_eagerly_and_a_second_delivery_changes_nothing(
    series, only_rule, django_capture_on_commit_callbacks
):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    for _ in range(3):
        series([100, 50])
    with django_capture_on_commit_callbacks(execute=True):
        run_id = nightly_checks.delay("2022-10-31").get()
    snapshot, events = _snapshot(), Event.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly_checks.delay("2022-10-31").get() == run_id
    run = CheckRun.objects.get()
    assert (run.status, run.trigger, run.mode, run.flags_opened) == ("succeeded", "nightly", "incremental", 3)
    assert (_snapshot(), Event.objects.count()) == (snapshot, events) and events == 3


def test_task_settings_survive_lost_workers():
    assert check_shard.acks_late and check_shard.reject_on_worker_lost
    assert check_shard.max_retries is not None
    assert check_shard.time_limit < settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    nightly = settings.CELERY_BEAT_SCHEDULE["nightly-checks"]["schedule"]
    assert (nightly.hour, nightly.minute) == ({2}, {0}) and settings.CELERY_TIMEZONE == "America/New_York"


def test_the_calibrated_defaults_and_the_data_quality_rules_are_seeded(db):
    # The defaults measured on benchmarks/bench_signal.py (figures in benchmarks/README.md).
    active = ThresholdRule.objects.filter(active=True)
    assert sorted(active.values_list("kind", flat=True)) == sorted(
        ["unusual_change", "unusual_change", "target", "stale", "impossible_value", "sawtooth"]
    )
    unusual = {rule.params["years"]: rule for rule in active.filter(kind=RuleKind.UNUSUAL_CHANGE)}
    assert (unusual[1].yellow, unusual[1].red, unusual[2].yellow, unusual[2].red) == (5, 10, 10, 20)
    assert {rule.preliminary for rule in unusual.values()} == {"cap"}
    target = active.get(kind=RuleKind.TARGET)
    # A critical indicator 10 % worse than its target is red (20 % × the critical factor 0.5).
    assert (target.yellow, target.red, target.critical_factor, target.preliminary) == (
        10,
        20,
        Decimal("0.5"),
        "include",
    )
    seeded_off = set(ThresholdRule.objects.filter(active=False).values_list("kind", flat=True))
    assert seeded_off == {"period_change", "year_over_year", "control_limit", "sustained"}


# ---- the date a person may check as of ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", ["0001-01-01", "1999-12-31", "9999-12-31", "next month"])
def test_a_run_by_hand_checks_between_the_first_measured_period_and_a_week_from_today(as_of, series, make_user, client):

    series([1, 2, 3])
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    first = Measurement.objects.order_by("period").values_list("period", flat=True).first()
    assert first is not None and first > dt.date(1999, 12, 31)
    if as_of == "next month":
        as_of = str(timezone.localdate() + dt.timedelta(days=31))
    runs = CheckRun.objects.count()

    response = client.post("/api/v1/check-runs/", {"as_of": as_of, "mode": "full"}, content_type="application/json")

    assert response.status_code == 400, response.content
    assert "as_of" in response.json()["fields"]
    assert CheckRun.objects.count() == runs
    for fine in (first, timezone.localdate() + dt.timedelta(days=7)):
        assert check_run_start(mode="full", as_of=fine, requested_by=admin, dispatch=False).created
        CheckRun.objects.update(status="succeeded")


def test_a_person_may_ask_for_a_date_from_the_earliest_measured_period_to_a_week_ahead(series):
    from core.errors import InvalidInput
    from escalations.services.checks import check_as_of_allowed

    check_as_of_allowed(dt.date(1990, 1, 1))  # nothing measured yet: any date up to a week ahead
    series([10, 11, 12], start=dt.date(2020, 7, 1))
    check_as_of_allowed(dt.date(2020, 7, 1))
    check_as_of_allowed(timezone.localdate() + dt.timedelta(days=7))
    with pytest.raises(InvalidInput, match="from 2020-07-01, the earliest measured period,"):
        check_as_of_allowed(dt.date(2020, 6, 30))
    with pytest.raises(InvalidInput, match="a week from today"):
        check_as_of_allowed(timezone.localdate() + dt.timedelta(days=8))
