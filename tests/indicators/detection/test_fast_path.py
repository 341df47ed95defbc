"""PostgreSQL's fast path of the window query (row offsets, no month arithmetic) gives, for every window without
a missing period, exactly the numbers of the general query (periods found by their number), for every rule
kind at once; a window with a gap is recognised and left to the general query."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection

from indicators.detection.dialect import Dialect
from indicators.detection.query import (
    as_date,
    dense_metrics_sql,
    fetch,
    gap_free,
    metric_columns,
    metrics_sql,
    steps_sql,
)
from indicators.detection.rules import active_rules, window_plan
from indicators.models import Direction, Frequency, Measurement, RuleKind, TargetKind

from ...conftest import require_service
from ...factories import RuleFactory

AS_OF = dt.date(2026, 11, 15)


@pytest.fixture
def every_kind(only_rule):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    for kind, yellow, red, params in [
        (RuleKind.PERIOD_CHANGE, 10, 20, {}),
        (RuleKind.TARGET, 0, 10, {}),
        (RuleKind.TREND_AVERAGE, 5, 10, {"n": 3}),
        (RuleKind.TREND_AVERAGE, 5, 10, {"n": 5}),
        (RuleKind.CONTROL_LIMIT, 2, 3, {"window": 24, "min_points": 8}),
        (RuleKind.SUSTAINED, 3, 5, {}),
        (RuleKind.SAWTOOTH, 3, 6, {"drop_pct": 50}),
        (RuleKind.IMPOSSIBLE_VALUE, 0, 0, {}),
        (RuleKind.UNUSUAL_CHANGE, 5, 10, {"years": 1}),
        (RuleKind.UNUSUAL_CHANGE, 10, 20, {"years": 2, "window": 12, "sigma_yellow": 3.5}),
    ]:
        RuleFactory(kind=kind, yellow=Decimal(yellow), red=Decimal(red), params=params)


def _number(value):
    """The fast path sends its sums as text (see ``dense_metrics_sql``): compare them as the numbers they are."""
    return Decimal(value) if isinstance(value, str) and value[:1] in "-0123456789" else value


def _rows(sql: str, columns: list[str], params: list) -> dict[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {raw[0]: dict(zip(columns, raw)) for raw in cursor.fetchall()}


def test_the_fast_path_gives_the_general_querys_numbers_and_recognises_gaps(series, every_kind):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    rng = random.Random(12)
    starts = {Frequency.MONTHLY: dt.date(2019, 1, 1), Frequency.QUARTERLY: dt.date(2015, 1, 1)}
    starts |= {Frequency.FOUR_MONTH: dt.date(2012, 7, 1), Frequency.ANNUAL: dt.date(2010, 7, 1)}
    lengths = {Frequency.MONTHLY: 95, Frequency.QUARTERLY: 40, Frequency.FOUR_MONTH: 40, Frequency.ANNUAL: 16}
    gapped = set()
    for i in range(60):
        frequency = list(starts)[i % 4]
        values = [round(rng.uniform(50, 150) * (1 + 0.2 * (j % 12 < 6)), 2) for j in range(lengths[frequency])]
        if i % 5 == 0:  # a run of declines at the end, and a saw-tooth drop
            values[-6:] = [values[-7] * (1 - 0.05 * k) for k in range(1, 7)]
        if i % 7 == 0:
            values[rng.randrange(len(values) - 10, len(values) - 1)] = None  # a missing period
        direction = [Direction.UP, Direction.DOWN, Direction.NEUTRAL][i % 3]
        indicator = series(
            values,
            frequency=frequency,
            start=starts[frequency],
            desired_direction=direction,
            critical=i % 4 == 0,
            target=Decimal(100) if i % 2 else None,
            target_kind=TargetKind.NUMERIC if i % 2 else TargetKind.NONE,
            measurement_type="percentage" if i % 6 == 1 else "number",
        )
        if i % 7 == 0:
            gapped.add(indicator.pk)
        if i % 3 == 0:
            latest = indicator.measurements.order_by("-period").first()
            Measurement.objects.filter(pk=latest.pk).update(preliminary=True)

    plan = window_plan(active_rules())
    columns = metric_columns(plan)
    params = [0, 10**9, AS_OF, AS_OF]
    steps = {row[0] for row in fetch(steps_sql(), [0, 10**9])}
    general = _rows(metrics_sql(plan, dialect=Dialect("postgresql"), ids=None, steps=steps), columns, params)
    fast = _rows(dense_metrics_sql(plan, ids=None), [*columns, "n_rows", "first_period"], params)
    assert general.keys() == fast.keys() and len(fast) == 60
    recognised = set()
    for indicator_id, row in fast.items():
        row["period"] = as_date(row["period"])
        if not gap_free(row):
            recognised.add(indicator_id)
            continue
        expected = general[indicator_id]
        expected["period"] = as_date(expected["period"])
        assert {c: _number(row[c]) for c in columns} == {c: _number(v) for c, v in expected.items()}, indicator_id
    # A missing period inside the window is found; one before the window starts does not matter.
    assert recognised and recognised <= gapped
