"""The set-based part: SQL that computes, for every indicator of an id range at once, the values every rule
needs at the latest period. Window functions over the measurements; no per-indicator query.

Two traps this avoids. Filtering ``WHERE period = latest`` before the windows would leave each window one
row and null every ``LAG``: the latest row is picked *after* the windows, by its period. And period arithmetic
uses an integer period number ``k`` (months ÷ months per period), so "the previous period" and "the N periods
before" are constant ``RANGE`` frames that skip missing periods instead of sliding onto older ones.

The sums' frames end at the current row and the caller subtracts it (exactly, in ``Decimal``): CPython 3.11's
sqlite3 crashes when a Python window function meets a frame with no rows, which "N PRECEDING AND 1
PRECEDING" is at the start of every series."""

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeAlias

from django.db import connection

from ..models import RuleKind
from .dialect import Dialect
from .rules import STEP_MONTHS, WindowPlan

# One row of ``metrics_sql`` or ``dense_metrics_sql``: column name → value as the database driver returns it. The
# columns depend on the active rules (``metric_columns``), and a number's type on the database and the path: a
# ``Decimal`` from PostgreSQL (text for the fast path's sums), an ``int`` or ``float`` from SQLite (text for its
# exact sums). ``dialect.to_decimal`` and ``as_date`` make them exact where the math needs them.
Row: TypeAlias = dict[str, Any]
# What the queries here are given: ids, the as-of date, the ``since`` moment, a list of ids (PostgreSQL's arrays).
SqlParam: TypeAlias = int | dt.date | list[int]

STEP_SQL = "CASE i.frequency " + " ".join(f"WHEN '{f}' THEN {s}" for f, s in STEP_MONTHS.items()) + " ELSE 12 END"
_SCOPE_RANK = "CASE r.scope WHEN 'indicator' THEN 0 WHEN 'agency' THEN 1 WHEN 'critical' THEN 2 ELSE 3 END"


def candidates_cte(id_filter: str) -> str:
    """``cand``: the active indicators of a shard (``id >= %s AND id < %s``, then ``id_filter``) with what every
    window query reads of them; the first CTE of each."""
    return f"""cand AS (
        SELECT i.id, {STEP_SQL} AS step, i.desired_direction, i.critical, i.target, i.target_kind, i.tolerance,
               i.measurement_type, i.reported_through, i.reported_from, i.unbroken_since
        FROM indicators_indicator i
        WHERE i.active AND i.id >= %s AND i.id < %s {id_filter}
    )"""


def _latest(indicator: str) -> str:
    """SQL for the latest period on or before the as-of date (two parameters, both the as-of date) of the
    indicator row ``indicator`` (with ``id`` and ``reported_through`` columns): its ``reported_through`` when that is on
    or before the date, else one backward step on the (indicator, period) index (an earlier date, or values
    written by something other than the importer)."""
    return (
        f"CASE WHEN {indicator}.reported_through <= %s THEN {indicator}.reported_through ELSE (SELECT MAX(m.period) "
        f"FROM indicators_measurement m WHERE m.indicator_id = {indicator}.id AND m.period <= %s) END"
    )


def pairs_sql(
    lo_id: int,
    hi_id: int,
    *,
    since: dt.datetime | None = None,
    kinds: tuple[str, ...] = (),
    unchanged: bool = False,
    latest_on: dt.date | None = None,
) -> tuple[str, list[SqlParam]]:
    """(SQL, parameters) of (indicator, rule, kind) for every active rule that applies to each active
    indicator of the range, optionally only of the given ``kinds``: the one definition of "which rules apply".

    Every rule whose scope covers the indicator applies (a 3-year and a 5-year average side by side), except
    that a rule marked ``replaces_broader`` shuts out the rules of its kind with a broader scope there (scopes
    from narrow to broad: indicator, agency, critical, all). With ``since``: only the indicators whose data
    changed since then; with ``unchanged`` as well, only the others. With ``latest_on``, each row also carries
    the indicator's months per period and its latest period on or before that date (as ``latest_sql``), for
    rules that need nothing else."""
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    of_kinds = f"AND r.kind IN ({listed})" if kinds else ""
    latest = ""
    params: list[SqlParam] = []
    if latest_on is not None:
        latest = f", step, {_latest('applicable')}"
        params += [latest_on, latest_on]
    params += [lo_id, hi_id]
    prefilter = changed = ""
    if since is not None:
        if unchanged:
            changed = "AND NOT COALESCE(data_changed_at >= %s, false)"
        else:
            prefilter = "AND i.data_changed_at >= %s"
        params.append(since)
    sql = f"""
        SELECT indicator_id, rule_id, kind {latest} FROM (
            SELECT i.id AS indicator_id, r.id AS rule_id, r.kind AS kind, i.data_changed_at AS data_changed_at,
                   {STEP_SQL} AS step, i.id, i.reported_through, {_SCOPE_RANK} AS scope_rank,
                   MIN(CASE WHEN r.replaces_broader THEN {_SCOPE_RANK} END)
                       OVER (PARTITION BY i.id, r.kind) AS replaced_beyond
            FROM indicators_indicator i
            JOIN indicators_thresholdrule r ON r.active {of_kinds} AND (
                r.scope = 'all'
                OR (r.scope = 'critical' AND i.critical)
                OR (r.scope = 'agency' AND r.agency_id = i.agency_id)
                OR (r.scope = 'indicator' AND r.indicator_id = i.id))
            WHERE i.active AND i.id >= %s AND i.id < %s {prefilter}
        ) applicable
        WHERE (replaced_beyond IS NULL OR scope_rank <= replaced_beyond) {changed}
        ORDER BY indicator_id, rule_id"""
    return sql, params


METRIC_COLUMNS_FIXED = (
    "indicator_id",
    "period",
    "value",
    "lag_value",
    "prev_value",
    "yoy_value",
    "point",
    "down_streak",
    "up_streak",
    "rise_run",
    "step",
    "desired_direction",
    "critical",
    "target",
    "target_kind",
    "tolerance",
    "measurement_type",
    "preliminary",
)


# The values of the latest row itself (the latest period is the last row of each indicator's window).
_AT_LATEST = ("value", "lag_value", "yoy_value", "point")


def metric_columns(plan: WindowPlan) -> list[str]:
    columns = list(METRIC_COLUMNS_FIXED)
    for n in plan.trend_ns:
        columns += [f"ta{n}_s", f"ta{n}_c"]
    for w in plan.control_windows:
        columns += [f"cl{w}_n", f"cl{w}_s", f"cl{w}_q"]
    for years, recent, window in plan.unusual:
        key = f"u{years}_{recent}_{window}"
        columns += [f"{key}_{name}" for name in ("rn", "rs", "rb", "n", "s", "q")]
    return columns


def metrics_sql(
    plan: WindowPlan, *, dialect: Dialect, ids: list[int] | None, steps: set[int], gap_free: bool = False
) -> str:
    """One row per indicator at its latest period on or before the as-of date. Parameters: lo_id, hi_id
    (and the ids, when given), as_of, as_of. ``steps``: the months per period of the frequencies in the range.
    ``gap_free``: the caller knows that no window of these indicators misses a period (SQLite's gate checked),
    so "N years earlier" is that many rows back (``LAG``), about a third cheaper on SQLite than the frame.

    A pass over each indicator's trailing window for its row numbers and previous values, one for each "N
    years earlier" the rules compare with, then one aggregate row per indicator. Only what the active rules
    need is computed."""
    d = dialect
    kinds = plan.kinds
    id_filter = f"AND i.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    lookback = "CASE c.step " + " ".join(f"WHEN {s} THEN {m}" for s, m in plan.lookback_months.items()) + " END"
    present = sorted(steps)
    # "The same period N years earlier" is k − N × periods-per-year, needed on every row when the control limits
    # use year-over-year changes, and by the unusual-change rules for their N. A frame offset must be a
    # constant: one frame per (N, frequency present), and a CASE picks the indicator's. (Found by period number,
    # not N rows back: a window may miss a period.)
    by_k = "PARTITION BY b.indicator_id ORDER BY b.k"

    def periods_back(back: int) -> str:
        if gap_free:
            return f"LAG(b.value, {back}) OVER ({by_k})"
        return f"FIRST_VALUE(b.value) OVER ({by_k} RANGE BETWEEN {back} PRECEDING AND {back} PRECEDING)"

    lag_frames = "".join(f", {periods_back(12 * y // s)} AS lag{y}_{s}" for y in plan.lag_years for s in present)

    def lagged(years: int) -> str:
        return "CASE w.step " + " ".join(f"WHEN {s} THEN w.lag{years}_{s}" for s in present) + " END"

    yoy = lagged(1) if 1 in plan.lag_years and present else "NULL"
    lag_columns = "".join(f", {lagged(y)} AS lagv{y}, w.value - {lagged(y)} AS d{y}" for y in plan.lag_years if present)

    def per_step(periods: Callable[..., int]) -> str:
        """A number of periods that depends on the indicator's months per period, as SQL."""
        return "CASE w.step " + " ".join(f"WHEN {s} THEN {periods(s)}" for s in STEP_MONTHS.values()) + " END"

    def of(function: str, expression: str, where: str) -> str:
        # FILTER (both databases): only the rows an aggregate needs evaluate its expression.
        return f"{function}({expression}) FILTER (WHERE {where})"

    # Everything else is needed at the latest period only: one aggregate row per indicator (GROUP BY, not a
    # window over every row: the rows arrive sorted by indicator, and PostgreSQL aggregates them as they come),
    # each aggregate picking its rows by their distance from the latest period (lk).
    aggregates = [f"{of('MAX', 'w.value', 'w.k = w.lk - 1')} AS prev_value"]
    if kinds & {RuleKind.SUSTAINED, RuleKind.SAWTOOTH}:
        # rn of the last row whose change was not a fall (rise), or that has no previous row: every row after
        # it fell (rose), so rn(latest) − that is the streak ending at the latest period.
        aggregates += [
            f"{of('MAX', 'w.rn', 'w.lag_value IS NULL OR NOT w.value < w.lag_value')} AS last_not_down",
            f"{of('MAX', 'w.rn', 'w.lag_value IS NULL OR NOT w.value > w.lag_value')} AS last_not_up",
            f"{of('MAX', 'w.rn', 'w.k < w.lk AND (w.lag_value IS NULL OR w.value < w.lag_value)')} AS last_drop_before",
        ]
    else:
        aggregates += [
            f"CAST(NULL AS INTEGER) AS {name}" for name in ("last_not_down", "last_not_up", "last_drop_before")
        ]
    for n in plan.trend_ns:
        recent = f"w.k >= w.lk - {n}"
        aggregates += [
            f"{of(d.xsum_name, 'w.value', recent)} AS ta{n}_s",
            f"{of('COUNT', 'w.value', recent)} AS ta{n}_c",
        ]
    for n in plan.control_windows:
        recent = f"w.k >= w.lk - {n}"
        aggregates += [
            f"{of('COUNT', 'w.point', recent)} AS cl{n}_n",
            f"{of(d.xsum_name, 'w.point', recent)} AS cl{n}_s",
            f"{of(d.xsumsq_name, d.squared('w.point'), recent)} AS cl{n}_q",
        ]
    for years, months, window in plan.unusual:
        # The changes on N years earlier of the latest `months` (at least one period), and of the `window`
        # periods that end where those comparisons begin (N years before the latest).
        key = f"u{years}_{months}_{window}"
        latest = per_step(lambda s, months=months: max(1, months // s))
        lag = per_step(lambda s, years=years: 12 * years // s)
        recent = f"w.k > w.lk - {latest}"
        earlier = f"w.k <= w.lk - {lag} AND w.k > w.lk - {lag} - {window}"
        aggregates += [
            f"{of('COUNT', f'w.d{years}', recent)} AS {key}_rn",
            f"{of(d.xsum_name, f'w.d{years}', recent)} AS {key}_rs",
            f"{of(d.xsum_name, f'w.lagv{years}', recent)} AS {key}_rb",
            f"{of('COUNT', f'w.d{years}', earlier)} AS {key}_n",
            f"{of(d.xsum_name, f'w.d{years}', earlier)} AS {key}_s",
            f"{of(d.xsumsq_name, d.squared(f'w.d{years}'), earlier)} AS {key}_q",
        ]
    extra = [c for c in metric_columns(plan) if c not in METRIC_COLUMNS_FIXED]
    extra_select = "".join(f", s.{c}" for c in extra)
    at_latest = ", ".join(f"{of('MAX', f'w.{c}', 'w.k = w.lk')} AS {c}" for c in _AT_LATEST)
    return f"""
    WITH {candidates_cte(id_filter)},
    latest AS MATERIALIZED (
        -- MATERIALIZED: inlined, PostgreSQL would repeat any index step for every row of the window below.
        SELECT c.id AS indicator_id, c.step, {_latest("c")} AS period
        FROM cand c
    ),
    b AS (
        -- Only the trailing window the rules need, read as an index range per indicator.
        SELECT l.indicator_id, m.period, m.value, m.preliminary, l.step, l.period AS latest,
               {d.month_index("m.period")} / l.step AS k, {d.month_index("l.period")} / l.step AS lk
        FROM {d.window_rows("latest l", lookback.replace("c.step", "l.step"))}
    ),
    w AS (
        SELECT b.indicator_id, b.period, b.latest, b.value, b.preliminary, b.step, b.k, b.lk,
               ROW_NUMBER() OVER ({by_k}) AS rn, LAG(b.value) OVER ({by_k}) AS lag_value
               {lag_frames}
        FROM b
    ),
    p AS (
        SELECT w.*, {yoy} AS yoy_value, CASE WHEN w.step = 12 THEN w.value ELSE w.value - {yoy} END AS point
               {lag_columns}
        FROM w
    ),
    s AS (
        SELECT w.indicator_id, MAX(w.latest) AS period, MAX(w.rn) AS rn, {at_latest},
               MAX(CASE WHEN w.k = w.lk AND w.preliminary THEN 1 ELSE 0 END) AS preliminary,
               {", ".join(aggregates)}
        FROM p w
        GROUP BY w.indicator_id
    )
    SELECT s.indicator_id, s.period, s.value, s.lag_value, s.prev_value, s.yoy_value, s.point,
           s.rn - s.last_not_down AS down_streak, s.rn - s.last_not_up AS up_streak,
           s.rn - 1 - s.last_drop_before AS rise_run,
           c.step, c.desired_direction, c.critical, c.target, c.target_kind, c.tolerance, c.measurement_type,
           s.preliminary
           {extra_select}
    FROM s JOIN cand c ON c.id = s.indicator_id
    ORDER BY s.indicator_id"""


def dense_metrics_sql(plan: WindowPlan, *, ids: list[int] | None) -> str:
    """PostgreSQL's fast path of ``metrics_sql``: the same columns, plus ``n_rows`` and ``first_period`` (the
    window's row count and first period), correct for every indicator whose window has no missing period —
    the caller checks that (``gap_free``) and asks ``metrics_sql`` for the others. Parameters as
    ``metrics_sql``.

    Newest row first, a row's distance from the latest period is its row number, and "N periods earlier" is
    N rows on (``LEAD``, with the indicator's own N): one window node, then one aggregate row per indicator with
    every aggregate picking its rows by distance (``FILTER``). No month arithmetic on the rows, no frames. The
    sums travel as text: most are never looked at (a change that is not worse needs nothing else), and making a
    ``Decimal`` of each costs more than the rest of the row."""
    kinds = plan.kinds
    id_filter = f"AND i.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    lookback = "CASE c.step " + " ".join(f"WHEN {s} THEN {m}" for s, m in plan.lookback_months.items()) + " END"
    leads = "".join(f", LEAD(m.value, {y} * l.per_year) OVER s AS lag{y}" for y in plan.lag_years)
    yoy = "w.lag1" if 1 in plan.lag_years else "NULL"
    point = f"CASE WHEN w.step = 12 THEN w.value ELSE w.value - {yoy} END"
    aggregates = [
        "MAX(w.value) FILTER (WHERE w.dist = 0) AS value",
        "MAX(w.prev) FILTER (WHERE w.dist = 0) AS lag_value",
        "MAX(w.value) FILTER (WHERE w.dist = 1) AS prev_value",
        f"MAX({yoy}) FILTER (WHERE w.dist = 0) AS yoy_value",
        f"MAX({point}) FILTER (WHERE w.dist = 0) AS point",
        # The first row, from the latest back, whose change was not a fall (rise): the streak's length.
        "MIN(w.dist) FILTER (WHERE w.prev IS NULL OR NOT w.value < w.prev) AS down_streak",
        "MIN(w.dist) FILTER (WHERE w.prev IS NULL OR NOT w.value > w.prev) AS up_streak",
        "MIN(w.dist) FILTER (WHERE w.dist > 0 AND (w.prev IS NULL OR w.value < w.prev)) - 1 AS rise_run",
    ]
    if not kinds & {RuleKind.SUSTAINED, RuleKind.SAWTOOTH}:
        aggregates = aggregates[:5] + [
            f"CAST(NULL AS INTEGER) AS {c}" for c in ("down_streak", "up_streak", "rise_run")
        ]
    for n in plan.trend_ns:
        aggregates += [
            f"SUM(w.value) FILTER (WHERE w.dist <= {n}) AS ta{n}_s",
            f"COUNT(w.value) FILTER (WHERE w.dist <= {n}) AS ta{n}_c",
        ]
    for n in plan.control_windows:
        aggregates += [
            f"COUNT({point}) FILTER (WHERE w.dist <= {n}) AS cl{n}_n",
            f"SUM({point}) FILTER (WHERE w.dist <= {n}) AS cl{n}_s",
            f"SUM(({point}) * ({point})) FILTER (WHERE w.dist <= {n}) AS cl{n}_q",
        ]
    for years, months, window in plan.unusual:
        key = f"u{years}_{months}_{window}"
        change = f"(w.value - w.lag{years})"
        recent = f"FILTER (WHERE w.dist < GREATEST(1, {months} / w.step))"
        lag = f"{years} * w.per_year"
        earlier = f"FILTER (WHERE w.dist >= {lag} AND w.dist < {lag} + {window})"
        aggregates += [
            f"COUNT({change}) {recent} AS {key}_rn",
            f"SUM({change}) {recent} AS {key}_rs",
            f"SUM(w.lag{years}) {recent} AS {key}_rb",
            f"COUNT({change}) {earlier} AS {key}_n",
            f"SUM({change}) {earlier} AS {key}_s",
            f"SUM({change} * {change}) {earlier} AS {key}_q",
        ]
    extra = [c for c in metric_columns(plan) if c not in METRIC_COLUMNS_FIXED]
    return f"""
    WITH {candidates_cte(id_filter)},
    latest AS MATERIALIZED (
        SELECT c.id AS indicator_id, c.step, 12 / c.step AS per_year, {_latest("c")} AS period,
               {lookback} AS lookback
        FROM cand c
    ),
    w AS (
        SELECT l.indicator_id, l.step, l.per_year, m.period, m.value, m.preliminary,
               ROW_NUMBER() OVER s - 1 AS dist, LEAD(m.value) OVER s AS prev {leads}
        -- In indicator order, each window newest first as the index reads it backwards: the window's sort is
        -- then a small one per indicator (an incremental sort), not one of the whole shard.
        FROM (SELECT * FROM latest ORDER BY indicator_id) l CROSS JOIN LATERAL (
            SELECT m.period, m.value, m.preliminary FROM indicators_measurement m
            WHERE m.indicator_id = l.indicator_id AND m.period <= l.period
              AND m.period >= (l.period - make_interval(months => l.lookback))::date
            ORDER BY m.period DESC OFFSET 0) m
        WINDOW s AS (PARTITION BY l.indicator_id ORDER BY m.period DESC)
    ),
    s AS (
        SELECT w.indicator_id, MAX(w.period) AS period, MIN(w.period) AS first_period, COUNT(*) AS n_rows,
               CASE WHEN BOOL_OR(w.preliminary) FILTER (WHERE w.dist = 0) THEN 1 ELSE 0 END AS preliminary,
               {", ".join(aggregates)}
        FROM w
        GROUP BY w.indicator_id
    )
    SELECT s.indicator_id, s.period, s.value, s.lag_value, s.prev_value, s.yoy_value, s.point,
           s.down_streak, s.up_streak, s.rise_run,
           c.step, c.desired_direction, c.critical, c.target, c.target_kind, c.tolerance, c.measurement_type,
           s.preliminary {"".join(f", s.{c}" if _is_count(c) else f", s.{c}::text" for c in extra)},
           s.n_rows, s.first_period
    FROM s JOIN cand c ON c.id = s.indicator_id
    ORDER BY s.indicator_id"""


def _is_count(column: str) -> bool:
    return column.endswith(("_n", "_c", "_rn"))


def gap_free(row: Row) -> bool:
    """Whether a ``dense_metrics_sql`` row's window has every period from its first to its latest."""
    latest: dt.date = row["period"]  # already a date: the caller made it one
    return complete(latest, as_date(row["first_period"]), row["step"], row["n_rows"])


def complete(latest: dt.date, first: dt.date, step: int, n_rows: int) -> bool:
    """Whether a window of ``n_rows`` periods of ``step`` months from ``first`` to ``latest`` misses none."""
    months = (latest.year - first.year) * 12 + latest.month - first.month
    return months % step == 0 and months // step + 1 == n_rows


def complete_sql(d: Dialect, latest: str, first: str, step: str, n_rows: str) -> str:
    """``complete`` in SQL, over columns (for a statement with parameters: ``%%`` is its modulo)."""
    months = f"({d.month_index(latest)} - {d.month_index(first)})"
    return f"({months} %% {step} = 0 AND {months} / {step} + 1 = {n_rows})"


def steps_sql() -> str:
    """Months per period of the frequencies present among the active indicators of a range. Parameters:
    lo_id, hi_id."""
    return f"SELECT DISTINCT {STEP_SQL} FROM indicators_indicator i WHERE i.active AND i.id >= %s AND i.id < %s"


def latest_sql(ids: list[int] | None = None) -> str:
    """Latest period on or before the as-of date of every active indicator of a range (only ``ids``, when
    given), for the rules that need nothing else (stale). Parameters: as_of, as_of, lo_id, hi_id (and the ids,
    when given)."""
    id_filter = f"AND i.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    return f"""
    SELECT i.id, {STEP_SQL} AS step, {_latest("i")}
    FROM indicators_indicator i
    WHERE i.active AND i.id >= %s AND i.id < %s {id_filter}"""


def fetch(sql: str, params: Sequence[SqlParam]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def stream(sql: str, params: Sequence[SqlParam]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` as PostgreSQL produces them, in chunks: the caller works on one chunk while the
    server computes the next (the window query and the classification use both cores). Elsewhere: ``fetch``."""
    if connection.vendor != "postgresql":
        yield from fetch(sql, params)
        return
    with connection.cursor() as cursor:
        yield from cursor.cursor.stream(sql, params, size=1000)


def as_date(raw: object) -> dt.date:
    return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)[:10])
