"""The chart module: fiscal-year labels, MMR value formats, the threshold band and the SVG it draws."""

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from escalations import charts
from escalations.models import Flag
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


def signal(baseline="100", yellow="5", red="10", unit="percent"):
    return SimpleNamespace(baseline=Decimal(baseline), yellow=Decimal(yellow), red=Decimal(red), unit=unit)


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


def test_band_lies_on_the_worse_side_of_the_signals_baseline():
    band = charts.signal_band(signal(), indicator())
    assert (band.yellow, band.red, band.below) == (95, 90, True)
    down = charts.signal_band(signal(), indicator(desired_direction="down"))
    assert (down.yellow, down.red, down.below) == (105, 110, False)
    assert charts.signal_band(signal(unit="periods"), indicator()) is None
    assert charts.signal_band(None, indicator()) is None


@pytest.mark.django_db
def test_the_band_is_where_detection_flagged_a_critical_indicator_with_a_tolerance(series, only_rule, run_check):
    # Critical (factor 0.5) with a liaison tolerance of 8 %: the tolerance replaces yellow (no factor on it), red
    # is 20 × 0.5 = 10 %. The chart draws exactly the limits the check flagged against.
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 20, critical_factor=Decimal("0.5"))
    indicator_ = series([100, 91], critical=True, tolerance=Decimal(8))  # 9 % worse
    run_check(dt.date(2030, 1, 1))
    flag = Flag.objects.get(indicator=indicator_)
    band = charts.signal_band(flag.lead_signal, indicator_)
    assert (band.yellow, band.red) == (92, 90)  # yellow at the 8 % tolerance, red at 20 % × 0.5
    assert flag.severity == "yellow" and band.red < 91 <= band.yellow


def test_series_chart_marks_target_band_and_flagged_period_and_escapes_text():
    points = [
        SimpleNamespace(period=dt.date(y, 7, 1), value=Decimal(v)) for y, v in ((2020, 95), (2021, 96), (2022, 80))
    ]
    band = charts.signal_band(signal(baseline="96"), indicator())
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


def test_preliminary_values_are_drawn_hollow_and_said_so():
    points = [
        SimpleNamespace(period=dt.date(2021, 7, 1), value=Decimal(95), preliminary=False),
        SimpleNamespace(period=dt.date(2022, 7, 1), value=Decimal(90), preliminary=True),
    ]
    svg = charts.series_chart(indicator=indicator(), measurements=points)
    assert svg.count('class="point preliminary"') == 1 and svg.count('class="point"') == 1
    assert "FY2023: 90 (preliminary)" in svg


def _marker_x(svg: str) -> float:
    found = re.search(r'<line class="since" x1="([\d.]+)"', svg)
    assert found is not None, "no project start marker"
    return float(found.group(1))


def test_the_project_start_is_marked_where_it_falls_even_after_the_last_value():
    series = [SimpleNamespace(period=dt.date(2019 + i, 7, 1), value=Decimal(10 + i)) for i in range(4)]
    between = charts.series_chart(indicator=indicator(), measurements=series, since=dt.date(2021, 1, 1))
    on_a_point = charts.series_chart(indicator=indicator(), measurements=series, since=dt.date(2021, 7, 1))
    after = charts.series_chart(indicator=indicator(), measurements=series, since=dt.date(2024, 3, 1))
    # Points stand at x = 70, 253.3, 436.7, 620 (one per fiscal year); 2021-01-01 is half-way between FY2021's
    # and FY2022's, after the last value the marker stands at the right edge — it used to be left out.
    assert 340 < _marker_x(between) < 350
    assert _marker_x(on_a_point) == pytest.approx(436.7, abs=0.1)
    assert _marker_x(after) == 620.0
    assert "project start 2024-03-01" in after and 'text-anchor="end"' in after
    assert "project started 2021-01-01" in between  # the text alternative says it too
