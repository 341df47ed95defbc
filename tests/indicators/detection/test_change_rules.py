"""The change rules (period_change, year_over_year, target, trend_average) against hand-computed cases:
direction, zero baseline, thresholds with exact ties, critical factor, tolerance, missing periods."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.models import Direction, Frequency, RuleKind, TargetKind

from ...factories import AgencyFactory, RuleFactory

UP, DOWN, NEUTRAL = Direction.UP, Direction.DOWN, Direction.NEUTRAL


@pytest.mark.parametrize(
    ("direction", "before", "after", "expected"),
    [
        (UP, 100, 94, "yellow"),  # 6 % worse: yellow 5, red 10
        (UP, 100, 95, "yellow"),  # exactly 5 %: a tie reaches the threshold
        (UP, 100, "95.000001", None),  # a hair under 5 %
        (UP, 100, 90, "red"),  # exactly 10 %
        (UP, 100, 105, None),  # better
        (DOWN, 100, 106, "yellow"),
        (DOWN, 100, 94, None),
        (DOWN, -100, -89, "red"),  # |b| in the denominator: 11 % worse for a negative baseline
        (NEUTRAL, 100, 94, "yellow"),
        (NEUTRAL, 100, 111, "red"),
        (NEUTRAL, 100, 100, None),
        (UP, 0, -1, "red"),  # zero baseline: strictly worse is worse than every threshold
        (UP, 0, 1, None),
        (UP, 0, 0, None),
        (DOWN, 0, "0.000001", "red"),
    ],
)
def test_year_over_year(series, only_rule, detect, direction, before, after, expected):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicator = series([before, after], desired_direction=direction)
    breaches, evaluated = detect()
    assert (indicator.pk, indicator.rules.model.objects.get(active=True).pk) in evaluated
    assert (breaches[indicator.pk].severity if indicator.pk in breaches else None) == expected


def test_change_and_worse_by_are_recorded(series, only_rule, detect):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicator = series([80, 76], desired_direction=UP)
    breach = detect()[0][indicator.pk]
    assert (breach.value, breach.baseline, breach.change, breach.worse_by) == (
        Decimal("76"),
        Decimal("80"),
        Decimal("-0.05"),
        Decimal("0.05"),
    )
    assert breach.period == dt.date(2016, 7, 1)


@pytest.mark.parametrize(
    ("after", "critical", "tolerance", "expected"),
    [
        (97, True, None, "yellow"),  # critical: 5 × 0.5 = 2.5 % yellow, 5 % red
        (95, True, None, "red"),
        (98, True, None, None),
        (94, False, "8", None),  # tolerance 8 % replaces yellow 5 %
        (92, False, "8", "yellow"),
        (90, False, "8", "red"),  # red stays 10 %
        (97, True, "2", "yellow"),  # a tolerance is the liaison's own number: no critical factor on it
    ],
)
def test_critical_factor_and_tolerance(series, only_rule, detect, after, critical, tolerance, expected):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10, critical_factor=Decimal("0.5"))
    indicator = series([100, after], critical=critical, tolerance=tolerance and Decimal(tolerance))
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


@pytest.mark.parametrize(("after", "expected"), [("99.999999", "yellow"), (100, None), ("100.5", None)])
def test_threshold_zero_flags_every_strictly_worse_value(series, only_rule, detect, after, expected):
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 10)
    indicator = series([100, after])
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


def test_year_over_year_compares_the_same_month_a_year_earlier(series, only_rule, detect):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    # Monthly from July 2021; a seasonal dip every March. March 2023 (90) against March 2022 (100): 10 % worse,
    # although February 2023 (200) is much higher.
    values = [200] * 8 + [100] + [200] * 11 + [90]
    indicator = series(values, frequency=Frequency.MONTHLY, start=dt.date(2021, 7, 1))
    breach = detect()[0][indicator.pk]
    assert (breach.period, breach.baseline, breach.severity) == (dt.date(2023, 3, 1), Decimal(100), "red")


def test_year_over_year_needs_last_years_value(series, only_rule, detect):
    rule = only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicator = series([100, None, 50])  # FY2017 missing: FY2018 has no year-earlier value
    breaches, evaluated = detect()
    assert indicator.pk not in breaches and (indicator.pk, rule.pk) not in evaluated


def test_period_change_skips_nothing(series, only_rule, detect):
    rule = only_rule(RuleKind.PERIOD_CHANGE, 10, 20)
    dropped = series([100, 100, 85], frequency=Frequency.QUARTERLY, start=dt.date(2022, 1, 1))
    gap = series([100, None, 50], frequency=Frequency.QUARTERLY, start=dt.date(2022, 1, 1))
    breaches, evaluated = detect()
    assert breaches[dropped.pk].severity == "yellow"  # 15 % down on the previous quarter
    assert (gap.pk, rule.pk) not in evaluated  # the previous quarter is missing: not evaluated


@pytest.mark.parametrize(
    ("direction", "target", "value", "expected"),
    [
        (DOWN, "10", "12.14", "red"),  # 21.4 % over a "down" target
        (DOWN, "10", "10.5", "yellow"),
        (DOWN, "10", "10", None),  # meeting the target exactly is not worse
        (UP, "95", "94.999999", "yellow"),
        (UP, "0", "-1", "red"),
    ],
)
def test_target(series, only_rule, detect, direction, target, value, expected):
    only_rule(RuleKind.TARGET, 0, 10)
    indicator = series([value], desired_direction=direction, target=Decimal(target), target_kind=TargetKind.NUMERIC)
    breach = detect()[0].get(indicator.pk)
    assert (breach.severity if breach else None) == expected


def test_target_without_numeric_target_is_not_evaluated(series, only_rule, detect):
    rule = only_rule(RuleKind.TARGET, 0, 10)
    indicator = series([5], target_kind=TargetKind.UP)
    breaches, evaluated = detect()
    assert (indicator.pk, rule.pk) not in evaluated


def test_trend_average_skips_missing_periods(series, only_rule, detect):
    only_rule(RuleKind.TREND_AVERAGE, 5, 10, params={"n": 3})
    # The 3 periods before the latest: missing, 20, 30 → mean 25; 20 is 20 % under it.
    indicator = series([10, None, 20, 30, 20])
    breach = detect()[0][indicator.pk]
    assert (breach.baseline, breach.severity) == (Decimal(25), "red")


@pytest.mark.parametrize("direction", [UP, DOWN, NEUTRAL])
def test_trend_average_value_equal_to_the_mean_is_not_worse(series, only_rule, detect, direction):
    # 1.1 + 2.2 + 3.3 is not 6.6 in binary floating point; the mean is exactly 2.2 here.
    only_rule(RuleKind.TREND_AVERAGE, 0, 10, params={"n": 3})
    indicator = series(["1.1", "2.2", "3.3", "2.2"], desired_direction=direction)
    breaches, evaluated = detect()
    assert indicator.pk not in breaches
    assert any(pair[0] == indicator.pk for pair in evaluated)


def test_trend_average_one_millionth_below_the_mean_is_worse(series, only_rule, detect):
    only_rule(RuleKind.TREND_AVERAGE, 0, 10, params={"n": 3})
    indicator = series(["1.1", "2.2", "3.3", "2.199999"])
    assert detect()[0][indicator.pk].severity == "yellow"


def test_the_most_specific_rule_of_a_kind_wins(series, only_rule, detect):
    general = only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    agency = AgencyFactory()
    lenient = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=50, red=60, scope="agency", agency=agency)
    in_agency = series([100, 94], agency=agency)
    elsewhere = series([100, 94])
    critical = series([100, 97], critical=True)
    strict = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=1, red=2, scope="critical", critical_factor=1)
    breaches, evaluated = detect()
    assert (in_agency.pk, lenient.pk) in evaluated and in_agency.pk not in breaches
    assert breaches[elsewhere.pk].rule_id == general.pk
    assert (breaches[critical.pk].rule_id, breaches[critical.pk].severity) == (strict.pk, "red")


def test_inactive_indicators_and_rules_are_not_evaluated(series, only_rule, detect):
    rule = only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    retired = series([100, 50], active=False)
    indicator = series([100, 50])
    rule.active = False
    rule.save()
    breaches, evaluated = detect()
    assert not breaches and not evaluated
    assert retired.pk != indicator.pk


def test_values_after_the_as_of_date_are_not_seen(series, only_rule, detect):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicator = series([100, 100, 50])  # FY2016, FY2017, FY2018 (starts 2017-07-01)
    assert indicator.pk not in detect(as_of=dt.date(2017, 6, 30))[0]
    assert indicator.pk in detect(as_of=dt.date(2017, 7, 1))[0]
