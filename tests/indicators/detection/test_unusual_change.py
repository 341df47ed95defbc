"""The unusual-change rule against hand-computed cases: a change must be both material (percent, as the other
change rules) and unusual for the series (σ of its own changes over the same span, before the comparison)."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.models import Direction, Frequency, Measurement, RuleKind

MONTHLY = {"frequency": Frequency.MONTHLY, "start": dt.date(2020, 1, 1)}
PARAMS = {"years": 1, "recent_months": 3, "window": 36, "min_points": 3, "sigma_yellow": 2, "sigma_red": 3}


@pytest.fixture
def unusual(only_rule):
    def make(**params):
        return only_rule(RuleKind.UNUSUAL_CHANGE, 5, 10, params={**PARAMS, **params}, critical_factor=Decimal(1))

    return make


def test_a_steady_series_that_drops_for_three_months_is_red(series, unusual, detect):
    unusual()
    # Two years at 100, then three months at 88: each 12 below the same month a year earlier (12 %), and the
    # earlier year-over-year changes were all 0 (σ = 0).
    indicator = series([100] * 24 + [88] * 3, **MONTHLY)
    breach = detect()[0][indicator.pk]
    assert (breach.severity, breach.measure, breach.unit, breach.baseline) == ("red", 12, "percent", 100)
    assert (breach.period, breach.change) == (dt.date(2022, 3, 1), Decimal("-0.12"))


def test_a_material_change_within_the_series_usual_moves_is_not_flagged(series, unusual, detect):
    rule = unusual()
    # Months 12–14 moved by −30, +30, −30 on the year before: σ = √1200 ≈ 34.6. Months 24–26 are each 12 below
    # months 12–14 (13.3 % worse, material), but 12 ≤ 2 σ / √3 ≈ 40: an ordinary move for this series.
    values = [100] * 12 + [70, 130, 70] + [100] * 9 + [58, 118, 58]
    indicator = series(values, **MONTHLY)
    breaches, evaluated = detect()
    assert indicator.pk not in breaches and (indicator.pk, rule.pk) in evaluated


def test_an_unusual_but_small_change_is_not_flagged(series, unusual, detect):
    unusual()
    indicator = series([100] * 24 + [97] * 3, **MONTHLY)  # unusual (σ = 0) but 3 % worse: below yellow's 5 %
    assert indicator.pk not in detect()[0]


def test_a_single_bad_month_is_not_three(series, unusual, detect):
    unusual()
    # Only the latest month is 12 % worse: the three months together are 4 % worse, below yellow.
    indicator = series([100] * 26 + [88], **MONTHLY)
    assert indicator.pk not in detect()[0]


def test_an_annual_series_compares_its_latest_year(series, unusual, detect):
    unusual()
    # Year-over-year changes 2, −3, 2, −1 (σ = √6 ≈ 2.45), then −15: 15 % worse and 6 σ.
    indicator = series([100, 102, 99, 101, 100, 85], desired_direction=Direction.UP)
    breach = detect()[0][indicator.pk]
    assert (breach.severity, breach.measure, breach.baseline) == ("red", 15, 100)


def test_two_years_earlier(series, unusual, detect):
    one_year = unusual()
    two_years = unusual(years=2)
    one_year.active = True
    one_year.save()
    # A level change 15 months ago: against a year earlier nothing moved, against two years earlier the latest
    # three months are 20 % worse. (The earlier two-year changes, months 24–35, were all 0.)
    indicator = series([100] * 45 + [80] * 15, desired_direction=Direction.UP, **MONTHLY)
    breaches, evaluated = detect()
    assert (breaches[indicator.pk].rule_id, breaches[indicator.pk].severity, breaches[indicator.pk].measure) == (
        two_years.pk,
        "red",
        20,
    )
    assert (indicator.pk, one_year.pk) in evaluated  # evaluated, and no breach a year on


def test_down_is_worse_for_a_down_indicator_and_neutral_ones_are_not_evaluated(series, unusual, detect):
    rule = unusual()
    down = series([100] * 24 + [112] * 3, desired_direction=Direction.DOWN, **MONTHLY)
    neutral = series([100] * 24 + [112] * 3, desired_direction=Direction.NEUTRAL, **MONTHLY)
    breaches, evaluated = detect()
    assert breaches[down.pk].severity == "red"
    assert (neutral.pk, rule.pk) not in evaluated


def test_too_little_history_is_not_evaluated(series, unusual, detect):
    rule = unusual()
    indicator = series([100] * 14 + [80] * 3, **MONTHLY)  # only 2 earlier changes: min_points is 3
    _breaches, evaluated = detect()
    assert (indicator.pk, rule.pk) not in evaluated


@pytest.mark.parametrize(("handling", "expected"), [("include", "red"), ("cap", "yellow"), ("skip", None)])
def test_a_preliminary_latest_value_is_included_capped_or_skipped(series, unusual, detect, handling, expected):
    rule = unusual()
    rule.preliminary = handling
    rule.save()
    indicator = series([100, 102, 99, 101, 100, 85])
    Measurement.objects.filter(indicator=indicator, period=dt.date(2020, 7, 1)).update(preliminary=True)
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected
    assert breach is None or breach.preliminary
