"""``bench_checks.py`` builds its series with raw SQL (``benchmarks/synthetic.py``), beside the models: a column the
models add without a database default breaks it, as ``id_from_source`` did. Build a few series on PostgreSQL
and check they are what the benchmark says it measures."""

import datetime as dt

from django.db import connection

from benchmarks.synthetic import build_series
from indicators.models import Indicator, Measurement
from tests.conftest import require_service


def test_build_series_makes_n_monthly_series_of_m_periods(transactional_db):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    build_series(n=30, m=24, start=dt.date(2021, 1, 1))

    indicators = Indicator.objects.filter(external_id__startswith="BENCH-")
    assert indicators.count() == 30
    assert Measurement.objects.filter(indicator__in=indicators).count() == 30 * 24
    # As the importer records them: from the first to the latest period, unbroken.
    assert set(indicators.values_list("reported_from", "reported_through", "unbroken_since")) == {
        (dt.date(2021, 1, 1), dt.date(2022, 12, 1), dt.date(2021, 1, 1))
    }
    assert set(indicators.values_list("id_from_source", flat=True)) == {True}
