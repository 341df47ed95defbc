"""What PostgreSQL's storage does for the checks: the index they read an indicator's window through
(``measurement_one_per_period``, migration 0014: one value per indicator and period, the values themselves in
the index, so that a window is read from the index alone), and room on the indicator table's pages for their
colour changes (migration 0015)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from indicators.models import Measurement, Rag
from indicators.services.status import indicator_rag_record

from ..conftest import require_service
from ..factories import IndicatorFactory

pytestmark = pytest.mark.django_db


def test_one_value_per_indicator_and_period():
    indicator = IndicatorFactory()
    Measurement.objects.create(indicator=indicator, period=dt.date(2024, 1, 1), value=Decimal("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(indicator=indicator, period=dt.date(2024, 1, 1), value=Decimal("2"))
    assert Measurement.objects.get(indicator=indicator).value == Decimal("1")


def test_postgresql_reads_a_window_from_the_index_alone():
    require_service("PostgreSQL", connection.vendor == "postgresql")  # SQLite keeps the plain index
    indicator = IndicatorFactory()
    Measurement.objects.bulk_create(
        Measurement(indicator=indicator, period=dt.date(2020 + k // 12, k % 12 + 1, 1), value=Decimal(k))
        for k in range(48)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole otherwise
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    window = Measurement.objects.filter(indicator=indicator, period__gte=dt.date(2022, 1, 1)).order_by("period")
    plan = window.values_list("period", "value", "preliminary").explain()
    assert "Index Only Scan using measurement_one_per_period" in plan, plan
    assert len(window) == 24


def test_postgresql_colour_changes_touch_no_index():
    """A check's colour changes are "HOT" updates: the new row versions stay on their pages, and none of the
    indicator table's indexes (the full-text one included) is written."""
    require_service("PostgreSQL", connection.vendor == "postgresql")  # SQLite has no such setting
    indicators = IndicatorFactory.create_batch(60, rag="")  # new indicators, never checked
    ids = [indicator.pk for indicator in indicators]
    changed = indicator_rag_record(checked=ids, breaches=[(ids[0], Rag.RED)], now=timezone.now())
    assert changed == 60
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('indicators_indicator'::regclass)")
        hot = cursor.fetchone()[0]
    # A page's last row may find it full (the fill stops at the first row past half the page); the others fit.
    assert hot >= 55, hot
