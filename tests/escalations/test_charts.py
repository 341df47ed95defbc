"""The chart module: fiscal-year labels, MMR value formats, the threshold band and the SVG it draws."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from escalations import charts
from indicators.models import Direction, RuleKind


def indicator(**fields):
    defaults = {
        "pk": 1,
        "name": "Potholes <repaired>",
        "measurement_type": "number",
        "frequency": "annual",
        "desired_direction": Direction.UP,
        "critical": False,
        "tolerance": None,
        "target": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def rule(kind=RuleKind.YEAR_OVER_YEAR, yellow="5", red="10"):
    return SimpleNamespace(kind=kind, yellow=Decimal(yellow), red=Decimal(red), critical_factor=Decimal("0.5"))


def test_periods_read_as_fiscal_years():
    assert charts.period_label(dt.date(2022, 7, 1)) == "FY2023"
    assert charts.period_label(dt.date(2023, 1, 1)) == "FY2023"
    assert charts.period_label(None) == "—"


def test_values_read_as_the_mmr_prints_them():
    assert charts.format_value(Decimal("2117"), "number") == "2,117"
    assert charts.format_value(Decimal("83.20"), "percentage") == "83.2%"
    assert charts.format_value(Decimal("125"), "timespan") == "2:05"
    assert charts.format_value(Decimal("1234.5"), "currency") == "$1,234.5"
    assert charts.format_percent(Decimal("-0.123")) == "−12.3%"


def test_band_lies_on_the_worse_side_and_tightens_for_critical_indicators():
    band = charts.threshold_band(rule=rule(), indicator=indicator(), baseline=Decimal("100"))
    assert (band.yellow, band.red, band.below) == (95, 90, True)
    down = charts.threshold_band(rule=rule(), indicator=indicator(desired_direction="down"), baseline=100)
    assert (down.yellow, down.red, down.below) == (105, 110, False)
    critical = charts.threshold_band(rule=rule(), indicator=indicator(critical=True), baseline=100)
    assert (critical.yellow, critical.red) == (97.5, 95)
    tolerance = charts.threshold_band(rule=rule(), indicator=indicator(tolerance=Decimal("2")), baseline=100)
    assert tolerance.yellow == 98
    assert charts.threshold_band(rule=rule(kind=RuleKind.SUSTAINED), indicator=indicator(), baseline=100) is None
    assert charts.threshold_band(rule=None, indicator=indicator(), baseline=100) is None


def test_series_chart_marks_target_band_and_flagged_period_and_escapes_text():
    points = [
        SimpleNamespace(period=dt.date(y, 7, 1), value=Decimal(v)) for y, v in ((2020, 95), (2021, 96), (2022, 80))
    ]
    band = charts.threshold_band(rule=rule(), indicator=indicator(), baseline=Decimal("96"))
    svg = charts.series_chart(
        indicator=indicator(target=Decimal("90")), measurements=points, flagged_period=dt.date(2022, 7, 1), band=band
    )
    assert svg.count('class="flagged"') == 1
    assert 'class="target"' in svg and "target 90" in svg
    assert 'class="band-yellow"' in svg and 'class="band-red"' in svg
    assert "Potholes &lt;repaired&gt;" in svg and "<repaired>" not in svg
    assert "FY2023: 80" in svg  # the text alternative lists the values
    assert "No values recorded" in charts.series_chart(indicator=indicator(), measurements=[])


def test_sparkline_needs_two_points():
    assert "no trend" in charts.sparkline([Decimal(1)], label="x")
    assert "<polyline" in charts.sparkline([1, 2, None, 3], label="x")
