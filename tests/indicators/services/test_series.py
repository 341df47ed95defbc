"""``indicator_series_refresh``: each indicator's first and latest period with a value, and the first period of its
latest unbroken run — where no period after it is missing and every value is exactly one period after the one
before it — computed in the database, held here to the same answer computed in Python from the periods."""

import datetime as dt
from decimal import Decimal

from indicators.detection.classify import add_months
from indicators.detection.rules import STEP_MONTHS
from indicators.models import Frequency, Indicator, Measurement
from indicators.services.series import indicator_series_refresh

from ...factories import IndicatorFactory
from ..conftest import series_columns


def test_the_first_and_latest_periods_and_the_latest_unbroken_run(db):
    cases = {
        "no gap": (Frequency.MONTHLY, dt.date(2020, 1, 1), [0, 1, 2, 3, 4, 5]),
        "a gap, then a run": (Frequency.MONTHLY, dt.date(2020, 1, 1), [0, 1, 2, 5, 6, 7, 8]),
        "two gaps": (Frequency.QUARTERLY, dt.date(2015, 1, 1), [0, 1, 3, 4, 5, 7, 8]),
        "the latest value after a gap": (Frequency.FOUR_MONTH, dt.date(2012, 7, 1), [0, 1, 2, 4]),
        "one value": (Frequency.ANNUAL, dt.date(2016, 7, 1), [0]),
        "the last day of the month": (Frequency.QUARTERLY, dt.date(2019, 1, 31), [0, 1, 2, 3]),
        "no values": (Frequency.MONTHLY, dt.date(2020, 1, 1), []),
    }
    made: dict[str, tuple[Indicator, list[dt.date]]] = {}
    for name, (frequency, start, steps) in cases.items():
        indicator = IndicatorFactory(frequency=frequency)
        periods = [add_months(start, k * STEP_MONTHS[frequency]) for k in steps]
        Measurement.objects.bulk_create(Measurement(indicator=indicator, period=p, value=Decimal(1)) for p in periods)
        made[name] = (indicator, periods)
    # A value off the quarterly grid (a month after a quarter) breaks the run as a missing quarter does.
    grid = [dt.date(2020, 1, 1), dt.date(2020, 4, 1), dt.date(2020, 5, 1)]
    off_grid = IndicatorFactory(frequency=Frequency.QUARTERLY)
    Measurement.objects.bulk_create(Measurement(indicator=off_grid, period=p, value=Decimal(1)) for p in grid)
    made["off the grid"] = (off_grid, grid)

    indicator_series_refresh([indicator.pk for indicator, _periods in made.values()])

    for name, (indicator, periods) in made.items():
        indicator.refresh_from_db()
        found = (indicator.reported_from, indicator.reported_through, indicator.unbroken_since)
        assert found == series_columns(periods, STEP_MONTHS[indicator.frequency]), name
    assert made["a gap, then a run"][0].unbroken_since == dt.date(2020, 6, 1)
    assert made["off the grid"][0].unbroken_since == dt.date(2020, 5, 1)
    assert made["no values"][0].reported_through is None


def test_a_refresh_recomputes_from_the_values_and_repeats_safely(db):
    indicator = IndicatorFactory(frequency=Frequency.MONTHLY)
    periods = [dt.date(2021, m, 1) for m in (1, 2, 3, 4)]
    Measurement.objects.bulk_create(Measurement(indicator=indicator, period=p, value=Decimal(1)) for p in periods)
    indicator_series_refresh([indicator.pk])
    Measurement.objects.filter(indicator=indicator, period=dt.date(2021, 2, 1)).delete()
    indicator_series_refresh([indicator.pk, indicator.pk])
    indicator_series_refresh([indicator.pk])
    indicator.refresh_from_db()
    assert (indicator.reported_from, indicator.reported_through, indicator.unbroken_since) == (
        dt.date(2021, 1, 1),
        dt.date(2021, 4, 1),
        dt.date(2021, 3, 1),
    )
