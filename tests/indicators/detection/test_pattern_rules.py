"""control_limit, sustained and the data-quality kinds (stale, impossible_value, sawtooth) against
hand-computed cases."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.models import Direction, Frequency, MeasurementType, RuleKind

HISTORY = [10, 11, 10, 11, 10, 11, 10, 11]  # mean 10.5, sample σ = √(2/7) ≈ 0.5345


@pytest.mark.parametrize(
    ("latest", "direction", "expected"),
    [
        (9, Direction.UP, "yellow"),  # 1.5 below the mean: 2.81 σ
        ("8.8", Direction.UP, "red"),  # 1.7 below: 3.18 σ
        (12, Direction.UP, None),  # beyond, but on the better side
        (12, Direction.DOWN, "yellow"),
        ("9.5", Direction.UP, None),  # 1.87 σ
        (12, Direction.NEUTRAL, "yellow"),
    ],
)
def test_control_limit_annual_values(series, only_rule, detect, latest, direction, expected):
    only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 8})
    indicator = series([*HISTORY, latest], desired_direction=direction)
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


@pytest.mark.parametrize(("latest", "expected"), [("-1", "yellow"), ("-0.999999", None), ("-2", "red")])
def test_control_limit_ties_at_k_sigma(series, only_rule, detect, latest, expected):
    # History 0, 1, 2: mean 1, sample σ exactly 1. −1 lies exactly 2 σ below: a tie reaches the limit.
    only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 3}, critical_factor=1)
    indicator = series([0, 1, 2, latest])
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


def test_control_limit_constant_history(series, only_rule, detect):
    only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 8})
    flat = series([10] * 8 + [10])
    dipped = series([10] * 8 + ["9.999999"])
    breaches, _evaluated = detect()
    assert flat.pk not in breaches
    assert breaches[dipped.pk].severity == "red"  # σ = 0: any worse point is beyond every limit


def test_control_limit_needs_min_points(series, only_rule, detect):
    rule = only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 8})
    indicator = series([*HISTORY[:7], 0])
    assert (indicator.pk, rule.pk) not in detect()[1]


def test_control_limit_critical_factor_tightens_sigma(series, only_rule, detect):
    only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 8}, critical_factor=Decimal("0.5"))
    indicator = series([*HISTORY, "9.5"], critical=True)  # 1.87 σ: beyond 1 σ (yellow), not 1.5 σ (red)
    assert detect()[0][indicator.pk].severity == "red"


def test_control_limit_on_sub_annual_series_uses_year_over_year_changes(series, only_rule, detect):
    """A December spike every year is seasonality, not an anomaly, for a "down is better" monthly series."""
    only_rule(RuleKind.CONTROL_LIMIT, 2, 3, params={"window": 24, "min_points": 8})
    year = [100 + (50 if month == 5 else 0) + i % 2 for i, month in enumerate(range(12))]  # July start: Dec = 5
    values = year * 3  # 36 months ending with June; then the next December spike
    values += [v + 0 for v in year[:6]]
    seasonal = series(values, frequency=Frequency.MONTHLY, start=dt.date(2019, 7, 1), desired_direction=Direction.DOWN)
    broken = series(
        [*values[:-1], values[-1] + 40],
        frequency=Frequency.MONTHLY,
        start=dt.date(2019, 7, 1),
        desired_direction=Direction.DOWN,
    )
    breaches, _evaluated = detect()
    assert seasonal.pk not in breaches
    assert breaches[broken.pk].severity == "red"


@pytest.mark.parametrize(
    ("values", "direction", "expected"),
    [
        ([10, 9, 8, 7], Direction.UP, "yellow"),  # three falls in a row: yellow 3
        ([10, 9, 8, 7, 6, 5], Direction.UP, "red"),  # five: red 5
        ([10, 9, 9, 8, 7], Direction.UP, None),  # a flat step breaks the streak: two falls
        ([10, 9, 8, 7], Direction.DOWN, None),
        ([1, 2, 3, 4], Direction.DOWN, "yellow"),
        ([1, 2, 3, 4], Direction.NEUTRAL, "yellow"),
        ([4, 3, 2, 1], Direction.NEUTRAL, "yellow"),
        ([10, 9, None, 8, 7], Direction.UP, "yellow"),  # a missing period is skipped, not a break
    ],
)
def test_sustained(series, only_rule, detect, values, direction, expected):
    only_rule(RuleKind.SUSTAINED, 3, 5)
    indicator = series(values, desired_direction=direction)
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Latest FY2022 (starts 2021-07-01): FY2023 is due when it ends, 2023-06-30; 30 days' grace.
        (dt.date(2023, 7, 30), None),
        (dt.date(2023, 7, 31), "yellow"),  # one day past due after the grace
        (dt.date(2023, 8, 29), "red"),  # 30 days: red 30
    ],
)
def test_stale(series, only_rule, detect, as_of, expected):
    only_rule(RuleKind.STALE, 0, 30, params={"grace_days": 30})
    indicator = series([1, 2], start=dt.date(2020, 7, 1))
    breach = detect(as_of=as_of)[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected
    if breach:
        assert (breach.period, breach.value) == (dt.date(2022, 7, 1), None)


def test_stale_monthly(series, only_rule, detect):
    only_rule(RuleKind.STALE, 0, 30, params={"grace_days": 30})
    indicator = series([1, 2, 3], frequency=Frequency.MONTHLY, start=dt.date(2023, 1, 1))  # latest March 2023
    # April is due at the end of April; May 30 is the 30th day of grace, May 31 the first day late.
    assert indicator.pk not in detect(as_of=dt.date(2023, 5, 30))[0]
    breach = detect(as_of=dt.date(2023, 5, 31))[0][indicator.pk]
    assert (breach.measure, breach.unit) == (1, "days")


@pytest.mark.parametrize(
    ("measurement_type", "value", "flagged"),
    [
        (MeasurementType.PERCENTAGE, "100.5", True),
        (MeasurementType.PERCENTAGE, "100", False),
        (MeasurementType.PERCENTAGE, "-1", True),
        (MeasurementType.NUMBER, "-1", True),
        (MeasurementType.NUMBER, "0", False),
        (MeasurementType.CURRENCY, "-5", False),  # a budget variance may be negative
    ],
)
def test_impossible_value(series, only_rule, detect, measurement_type, value, flagged):
    only_rule(RuleKind.IMPOSSIBLE_VALUE, 0, 0)
    indicator = series([value], measurement_type=measurement_type)
    breach = detect()[0].get(indicator.pk)
    assert bool(breach) == flagged
    if breach:
        assert breach.severity == "red"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 1], "yellow"),  # three rises, then back to a quarter: a year-to-date series resetting
        ([1, 2, 3, 4, 5, 6, 7, 1], "red"),
        ([1, 2, 3, 4, 3], None),  # a 25 % dip is not a reset (drop_pct 50)
        ([4, 2, 3, 4, 1], None),  # only two rises before the drop
    ],
)
def test_sawtooth(series, only_rule, detect, values, expected):
    only_rule(RuleKind.SAWTOOTH, 3, 6, params={"drop_pct": 50})
    indicator = series(values, frequency=Frequency.MONTHLY, start=dt.date(2022, 7, 1))
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


def test_sawtooth_ignores_annual_series(series, only_rule, detect):
    rule = only_rule(RuleKind.SAWTOOTH, 3, 6, params={"drop_pct": 50})
    indicator = series([1, 2, 3, 4, 1])
    assert (indicator.pk, rule.pk) not in detect()[1]
