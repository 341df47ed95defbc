"""The database gates (PostgreSQL's ``gated_metrics_sql``, SQLite's ``gated_head_sql``) and hands Python only the
pairs that may breach: on either database the outcome — every breach with all its numbers, every pair
evaluated, the indicators checked — is exactly that of the reference, the general window query with Python
classifying every pair, for every rule kind at once, on series of every frequency with gaps, periods dated the
last day of a month, preliminary values, zero and negative values, tolerances and critical indicators, at dates
before, at and long after their latest periods."""

import dataclasses
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from indicators.detection import evaluate
from indicators.detection.classify import add_months
from indicators.detection.rules import STEP_MONTHS
from indicators.models import (
    Direction,
    Frequency,
    Indicator,
    Measurement,
    Preliminary,
    RuleKind,
    TargetKind,
    ThresholdRule,
)
from indicators.services.series import indicator_series_refresh

from ...factories import RuleFactory

STARTS = {
    Frequency.MONTHLY: dt.date(2019, 1, 1),
    Frequency.QUARTERLY: dt.date(2015, 1, 1),
    Frequency.FOUR_MONTH: dt.date(2012, 7, 1),
    Frequency.ANNUAL: dt.date(2010, 7, 1),
}
LENGTHS = {Frequency.MONTHLY: 95, Frequency.QUARTERLY: 40, Frequency.FOUR_MONTH: 40, Frequency.ANNUAL: 16}


@pytest.fixture
def every_kind(db):
    """The seeded defaults (left active) and a rule of every kind beside them, some skipping or capping
    preliminary values, some with a critical factor."""
    for kind, yellow, red, params, extra in [
        (RuleKind.YEAR_OVER_YEAR, 5, 10, {}, {"critical_factor": Decimal("0.5")}),
        (RuleKind.PERIOD_CHANGE, 10, 20, {}, {"preliminary": Preliminary.SKIP}),
        (RuleKind.TARGET, 0, 10, {}, {"preliminary": Preliminary.CAP}),
        (RuleKind.TREND_AVERAGE, 5, 10, {"n": 3}, {}),
        (RuleKind.TREND_AVERAGE, 5, 10, {"n": 5}, {"critical_factor": Decimal("0.75")}),
        (RuleKind.CONTROL_LIMIT, 2, 3, {"window": 24, "min_points": 8}, {}),
        (RuleKind.SUSTAINED, 3, 5, {}, {}),
        (RuleKind.SAWTOOTH, 2, 4, {"drop_pct": 20}, {}),
        (RuleKind.UNUSUAL_CHANGE, 5, 10, {"years": 1, "window": 24, "sigma_yellow": 1}, {}),
        (RuleKind.UNUSUAL_CHANGE, 3, 20, {"years": 3, "window": 12}, {"preliminary": Preliminary.SKIP}),
        (RuleKind.STALE, 10, 60, {"grace_days": 5}, {}),
    ]:
        RuleFactory(kind=kind, yellow=Decimal(yellow), red=Decimal(red), params=params, **extra)


def _series(rng: random.Random, i: int, length: int) -> list[float | None]:
    """A seasonal series with a trend; some end in a run of declines, a saw-tooth drop, a jump or a zero."""
    level, trend = rng.uniform(20, 150), rng.uniform(-0.03, 0.03)
    values: list[float | None] = [
        round(level * (1 + trend) ** (j / 12) * (1 + 0.15 * (j % 12 < 6)) * rng.uniform(0.97, 1.03), 2)
        for j in range(length)
    ]
    last = values[-1] or 1.0
    if i % 5 == 0:  # a run of declines
        values[-6:] = [round(last * (1 - 0.05 * k), 2) for k in range(1, 7)]
    if i % 6 == 1:  # rises, then a drop of more than half
        values[-5:] = [round(last * (1 + 0.1 * k), 2) for k in range(4)] + [round(last * 0.3, 2)]
    if i % 7 == 2:  # a jump either way
        values[-3:] = [round(v * rng.choice([0.6, 1.5]), 2) for v in values[-3:] if v is not None]
    if i % 11 == 3:  # a zero baseline a year before, and a zero latest value
        values[-min(13, length)], values[-1] = 0, 0
    if i % 13 == 4:  # an impossible value
        values[-1] = -5
    if i % 9 == 5:  # flat: every change is zero
        values = [50.0] * length
    if i % 8 == 6:  # a missing period inside the window
        values[rng.randrange(max(1, length - 12), length - 1)] = None
    return values


@pytest.fixture(params=["counted", "kept"])
def varied(request, series):
    """160 series of every shape. "kept": with the series columns the importer keeps (``indicator_series_refresh``),
    which PostgreSQL's gap test reads where they decide it; "counted": without, every window's values counted."""
    rng = random.Random(2026)
    for i in range(160):
        frequency = list(STARTS)[i % 4]
        # Some series shorter than the windows, of every length: the rules' counts are at their edges somewhere.
        length = LENGTHS[frequency] if i % 3 == 0 else rng.randint(2, LENGTHS[frequency])
        values = _series(rng, i, length)
        percentage = i % 10 == 7
        if percentage:
            values[-1] = 104.5
        start = STARTS[frequency]
        if i % 20 == 8:  # periods dated the last day of their month (31st, 28th, 30th…)
            start = start.replace(day=31) if start.month in (1, 3, 5, 7, 8, 10, 12) else start
        indicator = series(
            values,
            frequency=frequency,
            start=start,
            desired_direction=[Direction.UP, Direction.DOWN, Direction.NEUTRAL][i % 3],
            critical=i % 4 == 0,
            target=Decimal(rng.choice([0, 60, 100, 140])) if i % 2 else None,
            target_kind=TargetKind.NUMERIC if i % 2 else TargetKind.NONE,
            measurement_type="percentage" if percentage else "number",
            tolerance=Decimal(rng.choice(["2.5", "15", "40"])) if i % 7 == 0 else None,
        )
        if i % 3 == 0:
            latest = indicator.measurements.order_by("-period").first()
            Measurement.objects.filter(pk=latest.pk).update(preliminary=True)
    if request.param == "kept":
        indicator_series_refresh(Indicator.objects.values_list("pk", flat=True))


def _outcome(as_of: dt.date, *, reference: bool) -> tuple[list[tuple], set[tuple[int, int]], set[int], int]:
    evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=as_of, reference=reference)
    # Every field of every breach; one breach per (indicator, rule), so those order them.
    breaches = sorted((dataclasses.astuple(b) for b in evaluation.breaches), key=lambda fields: fields[:2])
    return breaches, evaluation.pairs(), evaluation.checked, evaluation.indicators


@pytest.mark.parametrize(
    "as_of",
    [dt.date(2026, 11, 15), dt.date(2027, 3, 31), dt.date(2030, 1, 1), dt.date(2024, 2, 29), dt.date(2022, 8, 31)],
)
def test_the_database_classifies_exactly_as_python(varied, every_kind, as_of):
    fast = _outcome(as_of, reference=False)
    reference = _outcome(as_of, reference=True)
    assert fast[0] == reference[0]
    assert fast[1:] == reference[1:]
    # The data exercise every kind: each rule breaches somewhere, and some pairs are evaluated without a breach.
    assert len(reference[0]) > 50 and len(reference[1]) > 2 * len(reference[0])


def test_reporting_gaps_agree_day_by_day(series, every_kind):
    """The reporting-gap rules' days counted in the database agree with Python's on every day across their
    thresholds (one day off would show here), for every frequency, with periods on the last day of a month too
    (the months added are clamped to the month's length)."""
    latest = {
        Frequency.MONTHLY: dt.date(2019, 7, 1),
        Frequency.QUARTERLY: dt.date(2019, 7, 1),
        Frequency.FOUR_MONTH: dt.date(2019, 7, 1),
        Frequency.ANNUAL: dt.date(2017, 9, 1),
    }
    for frequency, last in latest.items():
        step = STEP_MONTHS[frequency]
        for length in (5, 6):
            series([10 + k for k in range(length)], frequency=frequency, start=add_months(last, -(length - 1) * step))
    series([10, 11, 12], frequency=Frequency.MONTHLY, start=dt.date(2019, 5, 31))  # … 2019-07-31
    later = timezone.now() + dt.timedelta(days=1)  # no data changed since: the reporting-gap shard reads them all
    stale = set(ThresholdRule.objects.filter(active=True, kind=RuleKind.STALE).values_list("pk", flat=True))
    for day in range(240):
        as_of = dt.date(2019, 8, 20) + dt.timedelta(days=day)
        reference = _outcome(as_of, reference=True)
        assert _outcome(as_of, reference=False) == reference, as_of
        # An incremental run's reporting-gap shard (a later date, no new data) agrees on its rules: every pair of
        # the indicators it is asked to watch, of the others at least the breaches (and at most the pairs of an
        # indicator where one of its rules breaches); every indicator counted.
        evaluated = {(i, r) for i, r in reference[1] if r in stale}
        watched = {i for i, _r in evaluated if i % 2}
        dated = evaluate(lo_id=0, hi_id=10**12, as_of=as_of, changes_since=later, dated_only=True, watch=watched)
        assert sorted((dataclasses.astuple(b) for b in dated.breaches), key=lambda fields: fields[:2]) == [
            fields for fields in reference[0] if fields[1] in stale
        ], as_of
        breaching = {(b.indicator_id, b.rule_id) for b in dated.breaches}
        assert {(i, r) for i, r in evaluated if i in watched} | breaching <= dated.pairs(), as_of
        assert dated.pairs() <= {(i, r) for i, r in evaluated if i in watched or i in {b[0] for b in breaching}}
        assert dated.indicators == len({i for i, _r in evaluated}), as_of


def test_a_change_of_exactly_the_threshold_breaches_on_either_database(series):
    """0.3 and 0.27 are no binary floats: SQLite's gate compares floats, leniently, so a value exactly 10 % worse
    than its target or its year-earlier value still reaches Python and breaches at 10 %, as the reference says."""
    ThresholdRule.objects.update(active=False)
    for kind in (RuleKind.TARGET, RuleKind.YEAR_OVER_YEAR):
        RuleFactory(kind=kind, yellow=Decimal(10), red=Decimal(20))
    pairs = [("0.3", "0.27"), ("1.1", "0.99"), ("0.07", "0.063"), ("333.33", "299.997"), ("123456.789", "111111.1101")]
    for base, value in pairs:
        for direction, worse in ((Direction.UP, value), (Direction.DOWN, str(Decimal(base) * 2 - Decimal(value)))):
            series(
                [base, *["1"] * 11, worse],
                frequency=Frequency.MONTHLY,
                start=dt.date(2022, 1, 1),
                desired_direction=direction,
                target=Decimal(base),
                target_kind=TargetKind.NUMERIC,
            )
    as_of = dt.date(2023, 1, 31)
    fast, reference = _outcome(as_of, reference=False), _outcome(as_of, reference=True)
    assert fast == reference
    assert len(fast[0]) == 2 * 2 * len(pairs)  # each indicator breaches both rules
    assert {b[-2] for b in fast[0]} == {"yellow"}  # severity (then preliminary): at the yellow threshold


def test_the_gap_test_reads_the_kept_series_columns(series, only_rule):
    """Where the series columns decide the gap test, neither database counts the window's values: columns that
    claim a run the values do not have are believed (which is why every writer of measurements refreshes them),
    and refreshed, the check answers as the reference."""
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    values: list[int | None] = [100 + k for k in range(36)]  # rising, but …
    values[23] = 200  # … December 2021 was higher than December 2022 (135): a year-over-year breach …
    values[30] = None  # … and a month is missing within that year (July 2022): counted as if none were, the
    # value 12 rows back would be November 2021's (122), and there would be none
    indicator = series(values, frequency=Frequency.MONTHLY, start=dt.date(2020, 1, 1), desired_direction=Direction.UP)
    as_of = dt.date(2022, 12, 31)
    reference = _outcome(as_of, reference=True)
    assert [b[:2] for b in reference[0]] == [(indicator.pk, ThresholdRule.objects.get(active=True).pk)]

    Indicator.objects.filter(pk=indicator.pk).update(
        reported_from=dt.date(2020, 1, 1), reported_through=dt.date(2022, 12, 1), unbroken_since=dt.date(2020, 1, 1)
    )
    assert _outcome(as_of, reference=False) != reference

    indicator_series_refresh([indicator.pk])
    assert _outcome(as_of, reference=False) == reference
