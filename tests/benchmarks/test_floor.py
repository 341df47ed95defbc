"""The benchmark's floor statements must find exactly what the check finds, or ``full_vs_floor`` means nothing:
run the check and both floors (``benchmarks/synthetic.py``) on the same monthly series — windows with and
without a missing month, every direction, critical or not, targets, impossible values, a series that stopped
reporting — and compare the breaches (and, for the upsert floor, what it wrote) with the signals written."""

import datetime as dt
import random
from decimal import Decimal

from django.db import connection

from benchmarks.synthetic import FLOOR_SQL, SCRATCH_SQL, UPSERT_FLOOR_SQL, floor_params, upsert_floor_params
from escalations.models import Signal
from indicators.models import Direction, Frequency, MeasurementType, TargetKind
from tests.conftest import require_service

AS_OF = dt.date(2023, 12, 31)
START = dt.date(2019, 1, 1)
MONTHS = 60


def _values(rng: random.Random, n: int) -> list[float | None]:
    base, trend = rng.uniform(50, 1000), rng.uniform(-0.05, 0.05)
    shift = n % 3 == 0
    values: list[float | None] = []
    for j in range(MONTHS):
        value = base * (1 + trend * j / 12) * (1 + 0.15 * ((j % 12) - 6) / 6) * (1 + rng.uniform(-0.02, 0.02))
        if shift and j >= MONTHS - 6:
            value *= 0.8 if n % 2 else 1.25
        values.append(round(value, 2))
    if n % 4 == 1:  # a missing month, somewhere in the windows the rules read (a year back, two years back …)
        values[MONTHS - 1 - (1, 12, 13, 24, 30, 40)[n % 6]] = None
    if n % 10 == 7:  # a saw-tooth: rises, then a fall at the latest period
        for j in range(MONTHS - 6, MONTHS - 1):
            values[j] = 100.0 + j
        values[MONTHS - 1] = 60.0
    return values


def test_both_floors_find_exactly_the_breaches_the_check_writes(series, run_check):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    rng = random.Random(17)
    directions = (Direction.UP, Direction.DOWN, Direction.NEUTRAL)
    for n in range(80):
        values = _values(rng, n)
        fields: dict = {"desired_direction": directions[n % 3], "critical": n % 5 == 0}
        if n % 4 == 2:
            fields |= {"target": Decimal(str(round(rng.uniform(50, 1000), 2))), "target_kind": TargetKind.NUMERIC}
        if n == 11:
            fields["measurement_type"] = MeasurementType.PERCENTAGE  # above 100: impossible
        if n == 13:
            values[-1] = -5.0  # a negative count: impossible
        if n == 19:
            values = values[:-8]  # stopped reporting eight months ago: stale
        series(values, frequency=Frequency.MONTHLY, start=START, **fields)
    run_check(AS_OF)
    written = sorted(
        Signal.objects.filter(cleared_at__isnull=True).values_list("flag__indicator_id", "rule_id", "severity")
    )
    assert len({rule for _indicator, rule, _severity in written}) >= 5  # several kinds breach: the test can fail

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, floor_params(AS_OF))
        cursor.execute("SELECT indicator_id, rule_id, severity FROM bench_floor")
        assert sorted(cursor.fetchall()) == written

        for statement in SCRATCH_SQL:
            cursor.execute(statement)
        cursor.execute(UPSERT_FLOOR_SQL, upsert_floor_params(AS_OF))
        columns = ", ".join(
            f"s.{c}" for c in ("period", "value", "baseline", "change", "measure", "unit", "yellow", "red")
        )
        cursor.execute(
            f"SELECT f.indicator_id, s.rule_id, s.severity, {columns} FROM bench_signal s"
            " JOIN bench_flag f ON f.id = s.flag_id ORDER BY 1, 2"
        )
        upserted = cursor.fetchall()
        cursor.execute(
            f"SELECT f.indicator_id, s.rule_id, s.severity, {columns} FROM escalations_signal s"
            " JOIN escalations_flag f ON f.id = s.flag_id WHERE s.cleared_at IS NULL ORDER BY 1, 2"
        )
        assert upserted == cursor.fetchall()
        # A case per (indicator, category), its severity and how far beyond (its due date is computed from
        # each statement's own moment).
        cases = "SELECT indicator_id, category, severity, beyond, due_at IS NOT NULL FROM {} ORDER BY 1, 2"
        cursor.execute(cases.format("bench_flag"))
        upserted_cases = cursor.fetchall()
        cursor.execute(cases.format("escalations_flag"))
        assert upserted_cases == cursor.fetchall()
