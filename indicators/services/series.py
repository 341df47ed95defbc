"""What the checks know of each indicator's series without reading it: its first and latest period with a value
(``reported_from``, ``reported_through``) and where its latest unbroken run of periods begins (``unbroken_since``).

Every writer of measurements calls ``indicator_series_refresh`` for the indicators it wrote: the importer and the
indicator merge. Values written any other way leave the columns as they were; the checks then read the latest
period from the values where it is later than their date, as before, and count a window's values wherever the
run does not decide its gap test (``detection.gated``)."""

from collections.abc import Iterable

from django.db import connection

from ..detection.dialect import Dialect
from ..detection.query import STEP_SQL

_IN_CHUNK = 5000  # ids per UPDATE, within SQLite's parameter limit


def _assignments() -> str:
    """The columns' SQL over the indicator row ``i``. A run breaks where a value is not exactly one period (the
    frequency's months) after the one before it — a missing period, or a value off the frequency's grid — so that
    from ``unbroken_since`` on the values are exactly every period: a window within them misses none, as the
    check's count of its values would find."""
    d = Dialect(connection.vendor)
    values = "FROM indicators_measurement m WHERE m.indicator_id = i.id"
    breaks = f"{d.month_index('r.period')} - {d.month_index('r.before')} <> {STEP_SQL}"
    return (
        f"reported_from = (SELECT MIN(m.period) {values}), reported_through = (SELECT MAX(m.period) {values}),"
        f" unbroken_since = (SELECT MAX(r.period)"
        f" FROM (SELECT m.period, LAG(m.period) OVER (ORDER BY m.period) AS before {values}) r"
        f" WHERE r.before IS NULL OR {breaks})"
    )


def indicator_series_refresh(ids: Iterable[int]) -> None:
    """Recompute the series columns of the indicators ``ids`` from their measurements, in the caller's
    transaction (the one that wrote the measurements). Safe to repeat."""
    assignments = _assignments()
    wanted = sorted(set(ids))
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"UPDATE indicators_indicator AS i SET {assignments} WHERE i.id IN ({placeholders})", chunk)
