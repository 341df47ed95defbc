"""The benchmark's naive baseline must do the same work as the set-based check, or its figure means nothing:
run both on the same series and compare the flags and the audit trail they leave."""

import datetime as dt
from decimal import Decimal

from django.db import connection

from benchmarks.naive import naive_check
from escalations.models import Event, Flag, Signal
from indicators.models import CheckRun, Direction, Frequency, Indicator, Measurement

AS_OF = dt.date(2021, 12, 31)


def _outcome() -> tuple[list, list, list, list]:
    cases = sorted(
        (*row[:-1], row[-1] is not None)
        for row in Flag.objects.values_list("indicator_id", "category", "status", "severity", "beyond", "recovered_at")
    )
    signals = sorted(
        (*row[:-1], row[-1] is not None)
        for row in Signal.objects.values_list(
            "flag__indicator_id",
            "rule_id",
            "severity",
            "period",
            "value",
            "baseline",
            "change",
            "measure",
            "cleared_at",
        )
    )
    # The cases' events (a run started by hand also records itself; the naive loop starts no run).
    case_events = Event.objects.filter(flag__isnull=False)
    events = sorted(case_events.values_list("flag__indicator_id", "flag__category", "verb"))
    colours = sorted(Indicator.objects.values_list("pk", "rag"))
    return cases, signals, events, colours


def _reset() -> None:
    """Forget every flag, event and check run (the ledger would take a second run for a date as done)."""
    if connection.vendor == "postgresql":  # the audit trail refuses DELETE there; its owner may TRUNCATE
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending foreign-key checks
            cursor.execute("TRUNCATE escalations_event, escalations_flag, indicators_checkrun CASCADE")
    else:
        Event.objects.all().delete()
        Flag.objects.all().delete()
        CheckRun.objects.all().delete()
    Indicator.objects.update(rag="", rag_since=None)


def test_the_naive_loop_leaves_the_same_flags_and_events_as_the_set_based_check(series, run_check):
    # Monthly series like the benchmark's (with the seeded default rules): falling, rising, flat, a level
    # shift, a gap, a percentage above 100, and one that stopped reporting.
    start = dt.date(2018, 1, 1)
    monthly = {"frequency": Frequency.MONTHLY, "start": start}
    series([100 + i for i in range(48)], desired_direction=Direction.UP, **monthly)
    series([100 - i for i in range(48)], desired_direction=Direction.UP, critical=True, **monthly)
    series([100] * 36 + [80] * 12, desired_direction=Direction.DOWN, target=Decimal(90), **monthly)
    series([50 + (i % 12) for i in range(40)], desired_direction=Direction.NEUTRAL, **monthly)
    series([10, None, 12, None, 14] * 8, desired_direction=Direction.UP, **monthly)
    series([99, 101, 104] * 16, measurement_type="percentage", **monthly)
    series([100 + (i % 3) for i in range(30)], **monthly)
    indicators = 7

    naive_check(sample=indicators, as_of=AS_OF)
    naive = _outcome()
    _reset()
    run_check(AS_OF)
    assert naive == _outcome()
    assert len({signal[1] for signal in naive[1]}) >= 3  # the fixture breaches rules of several kinds

    # A month later, after new data for one series: updates, recoveries and new flags agree too.
    naive_check(sample=indicators, as_of=AS_OF)
    for indicator_id in Flag.objects.values_list("indicator_id", flat=True)[:1]:
        Measurement.objects.create(indicator_id=indicator_id, period=dt.date(2022, 1, 1), value=Decimal(1000))
    later = dt.date(2022, 1, 31)
    naive_check(sample=indicators, as_of=later)
    naive = _outcome()
    _reset()
    run_check(AS_OF)
    run_check(later)
    assert naive == _outcome()
