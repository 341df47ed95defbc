"""The change rules (period_change, year_over_year, target, trend_average) against hand-computed cases:
direction, zero baseline, thresholds with exact ties, critical factor, tolerance, missing periods."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.detection import evaluate, rules_applying
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


def test_change_and_measure_in_percent_are_recorded(series, only_rule, detect):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    indicator = series([80, 76], desired_direction=UP)
    breach = detect()[0][indicator.pk]
    assert (breach.value, breach.baseline, breach.change, breach.measure, breach.unit) == (
        Decimal("76"),
        Decimal("80"),
        Decimal("-0.05"),
        Decimal("5"),
        "percent",
    )
    assert (breach.yellow, breach.red, breach.period) == (5, 10, dt.date(2016, 7, 1))


def test_the_thresholds_that_applied_are_recorded_with_critical_factor_and_tolerance(series, only_rule, detect):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10, critical_factor=Decimal("0.5"))
    critical = series([100, 96], critical=True)
    tolerant = series([100, 88], tolerance=Decimal(8))
    breaches = detect()[0]
    assert (breaches[critical.pk].yellow, breaches[critical.pk].red) == (Decimal("2.5"), Decimal(5))
    assert (breaches[tolerant.pk].yellow, breaches[tolerant.pk].red) == (Decimal(8), Decimal(10))


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
    _breaches, evaluated = detect()
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


def _breaches_of(detect) -> dict[int, dict[int, str]]:
    evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=dt.date(2100, 1, 1))
    found: dict[int, dict[int, str]] = {}
    for breach in evaluation.breaches:
        found.setdefault(breach.indicator_id, {})[breach.rule_id] = breach.severity
    return found


def test_every_active_rule_of_a_kind_applies(series, only_rule, detect):
    three = only_rule(RuleKind.TREND_AVERAGE, 5, 10, params={"n": 3})
    five = RuleFactory(kind=RuleKind.TREND_AVERAGE, yellow=5, red=10, params={"n": 5})
    # The 3-year average is 100 (6 % worse: yellow); the 5-year one 112 (16 % worse: red).
    indicator = series([130, 130, 100, 100, 100, 94])
    assert _breaches_of(detect)[indicator.pk] == {three.pk: "yellow", five.pk: "red"}


def test_a_scoped_rule_replaces_the_broader_ones_of_its_kind_only_when_marked(series, only_rule, detect):
    general = only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    agency = AgencyFactory()
    lenient = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=50, red=60, scope="agency", agency=agency)
    in_agency = series([100, 94], agency=agency)
    elsewhere = series([100, 94])
    assert _breaches_of(detect)[in_agency.pk] == {general.pk: "yellow"}  # both apply; only the general breaches
    lenient.replaces_broader = True
    lenient.save()
    breaches, evaluated = detect()
    assert (in_agency.pk, lenient.pk) in evaluated and (in_agency.pk, general.pk) not in evaluated
    assert in_agency.pk not in breaches
    assert breaches[elsewhere.pk].rule_id == general.pk
    critical = series([100, 97], critical=True)
    strict = RuleFactory(
        kind=RuleKind.YEAR_OVER_YEAR, yellow=1, red=2, scope="critical", critical_factor=1, replaces_broader=True
    )
    assert _breaches_of(detect)[critical.pk] == {strict.pk: "red"}
    assert list(rules_applying(critical.pk)) == [strict.pk]


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
