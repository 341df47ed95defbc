"""The few SQL spellings that differ between PostgreSQL and SQLite, and SQLite's exact sums.

PostgreSQL's ``numeric`` is exact, so ``SUM`` is. SQLite stores a Django ``DecimalField`` as a binary float,
so its ``SUM`` of 0.1 + 0.2 is not 0.3 and an average that should equal a value would differ from it in the
15th digit. On SQLite the detection query therefore sums with ``percolate_xsum``: a window function written
in Python that turns each float back into the decimal it was stored from (six places, the column's scale)
and adds with ``Decimal``. The result is returned as text, read back as ``Decimal``."""

from collections.abc import Callable
from decimal import Decimal
from typing import TypeAlias, cast

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

SCALE = Decimal("0.000001")  # Measurement.value has six decimal places

# A number as a database returns it: ``Decimal`` from PostgreSQL's numeric, ``float`` or ``int`` from SQLite's
# columns, text from the exact sums (SQLite's, and PostgreSQL's on the fast path).
DbNumber: TypeAlias = Decimal | float | int | str


def to_decimal(raw: DbNumber | None) -> Decimal | None:
    """A number as the database returned it → the exact ``Decimal`` it stands for."""
    if raw is None or isinstance(raw, Decimal):
        return raw
    if isinstance(raw, float):
        # repr() is the shortest string that reads back as the same float: for a value stored from a decimal
        # of at most 15 significant digits it is that decimal. Differences of such values (a year-over-year
        # change computed by SQLite) are rounded back onto the six-place grid they belong to.
        return Decimal(repr(raw)).quantize(SCALE)
    if isinstance(raw, int):
        # SQLite stores a whole decimal as an integer: the six places PostgreSQL's numeric keeps.
        return Decimal(raw).quantize(SCALE)
    return Decimal(raw)


# ``to_decimal`` for a column that cannot be null where it is read (a sum over rows that were counted, the value
# of a row that exists): the same function, typed without ``None`` so that the arithmetic on it is checked. An
# alias and not a wrapper, because it runs for every row and rule.
decimal_of = cast(Callable[[DbNumber], Decimal], to_decimal)


# Below this magnitude a float read from a six-place decimal (or a difference of two) is within a hundredth of a
# millionth of its decimal, so ``round(raw * 10**6)`` is that decimal in millionths, exactly as ``to_decimal``
# reads it — six times faster; and sums of up to a hundred such squares stay within ``Decimal``'s 28 digits.
_FAST_BELOW = 1e6


class _ExactSum:
    """SQLite window function: exact sum of the decimals behind the floats (``None`` rows are skipped). Most
    terms are added as whole millionths (``int``), the rest as ``Decimal``."""

    scale = 6  # the terms' decimal places

    def __init__(self) -> None:
        self.micros = 0
        self.rest = Decimal(0)
        self.count = 0

    def _add(self, raw: DbNumber, sign: int) -> None:
        if type(raw) is float and -_FAST_BELOW < raw < _FAST_BELOW:
            self.micros += sign * round(raw * 1_000_000)
        elif type(raw) is int and -_FAST_BELOW < raw < _FAST_BELOW:
            self.micros += sign * raw * 1_000_000
        else:
            self.rest += sign * decimal_of(raw)
        self.count += sign

    def step(self, raw: DbNumber | None) -> None:
        if raw is not None:
            self._add(raw, 1)

    def inverse(self, raw: DbNumber | None) -> None:
        if raw is not None:
            self._add(raw, -1)

    def value(self) -> str | None:
        if not self.count:
            return None
        # The digits and exponent of adding the terms' decimals one by one (within Decimal's 28 digits).
        return str(Decimal(self.micros).scaleb(-self.scale) + self.rest)

    finalize = value


class _ExactSumOfSquares(_ExactSum):
    scale = 12  # the squares of six-place decimals have twelve

    def _add(self, raw: DbNumber, sign: int) -> None:
        if type(raw) is float and -_FAST_BELOW < raw < _FAST_BELOW:
            micros = round(raw * 1_000_000)
            self.micros += sign * micros * micros
        elif type(raw) is int and -_FAST_BELOW < raw < _FAST_BELOW:
            self.micros += sign * raw * raw * 1_000_000_000_000
        else:
            value = decimal_of(raw)
            self.rest += sign * value * value
        self.count += sign


def _register_sqlite_functions(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_window_function("percolate_xsum", 1, _ExactSum)
        connection.connection.create_window_function("percolate_xsumsq", 1, _ExactSumOfSquares)


def install() -> None:
    connection_created.connect(_register_sqlite_functions, dispatch_uid="percolate_detection_sqlite")


class Dialect:
    """SQL fragments for one database vendor."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.postgres = vendor == "postgresql"

    def month_index(self, column: str) -> str:
        """year × 12 + month: an integer that orders periods and makes "12 months earlier" a constant offset."""
        if self.postgres:
            return f"(EXTRACT(YEAR FROM {column})::integer * 12 + EXTRACT(MONTH FROM {column})::integer)"
        # SQLite keeps a date as ISO text (YYYY-MM-DD): the year and month are where they are, read without
        # parsing the date (strftime costs a tenth of the window query).
        return f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 + CAST(substr({column}, 6, 2) AS INTEGER))"

    def months_before(self, date_sql: str, months_sql: str) -> str:
        if self.postgres:
            return f"(({date_sql}) - make_interval(months => ({months_sql})::integer))::date"
        return f"date({date_sql}, '-' || ({months_sql}) || ' months')"

    def window_rows(self, latest: str, lookback_months: str) -> str:
        """FROM clause joining each indicator (``l``: indicator_id, period = its latest) to its measurements
        (``m``) from ``lookback_months`` before the latest period up to it."""
        lower = self.months_before("l.period", lookback_months)
        if self.postgres:
            # LATERAL … OFFSET 0 keeps the subquery from being flattened, so the planner reads each
            # indicator's window as one range of the (indicator, period) index instead of hashing the whole
            # measurement table whenever it expects many rows.
            return (
                f"{latest} CROSS JOIN LATERAL (SELECT m.period, m.value, m.preliminary FROM indicators_measurement m "
                f"WHERE m.indicator_id = l.indicator_id AND m.period <= l.period AND m.period >= {lower} "
                f"OFFSET 0) m"
            )
        return (
            f"{latest} JOIN indicators_measurement m ON m.indicator_id = l.indicator_id "
            f"AND m.period <= l.period AND m.period >= {lower}"
        )

    @property
    def xsum_name(self) -> str:
        """The exact sum aggregate: ``SUM`` of ``numeric`` on PostgreSQL, the decimal one on SQLite."""
        return "SUM" if self.postgres else "percolate_xsum"

    @property
    def xsumsq_name(self) -> str:
        """The exact sum of squares: ``SUM`` of the squares on PostgreSQL (pass ``squared(x)``), the decimal
        one on SQLite (which squares itself)."""
        return "SUM" if self.postgres else "percolate_xsumsq"

    def squared(self, expression: str) -> str:
        return f"({expression}) * ({expression})" if self.postgres else expression

    # The gates (``gated.py``): comparisons that decide which pairs Python classifies. PostgreSQL compares its
    # exact numerics as they are; SQLite compares binary floats, so each comparison there lets through anything
    # within a billionth of the magnitudes involved (``slack``) — far more than a float's error on values of up
    # to a billion, so a pair that breaches is never held back; one let through needlessly is Python's to
    # decide, exactly.

    def number(self, value: Decimal | int) -> str:
        """A rule's number as a literal: exact ``numeric`` on PostgreSQL."""
        return f"'{Decimal(value)}'::numeric" if self.postgres else f"{Decimal(value)}"

    def least(self, *expressions: str) -> str:
        return f"{'LEAST' if self.postgres else 'MIN'}({', '.join(expressions)})"

    def greatest(self, *expressions: str) -> str:
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(expressions)})"

    def slack(self, magnitude: str) -> str:
        """How far below its bound a float comparison may fall and still let the pair through."""
        return "0" if self.postgres else f"1e-9 * ({magnitude})"

    def at_least(self, left: str, right: str, magnitude: str) -> str:
        """``left >= right``, leniently on SQLite (``magnitude``: the size of the numbers compared)."""
        return f"({left}) >= ({right})" if self.postgres else f"({left}) >= ({right}) - {self.slack(magnitude)}"

    def above(self, left: str, right: str, magnitude: str) -> str:
        """``left > right``, leniently on SQLite."""
        return f"({left}) > ({right})" if self.postgres else f"({left}) > ({right}) - {self.slack(magnitude)}"

    def bigint(self, expression: str) -> str:
        return f"({expression})::bigint" if self.postgres else f"CAST({expression} AS INTEGER)"


POSTGRES = Dialect("postgresql")
SQLITE = Dialect("sqlite")
