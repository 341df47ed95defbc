"""The databases' gates: each answers every (indicator, rule) that is a comparison and sends Python only the pairs
that may breach. PostgreSQL's window query classifies as it goes (``gated_metrics_sql``, below); SQLite's gate
(``gated_head_sql``, at the end) computes the same bits from the same head numbers in floats, leniently, and the
caller reads the candidates' numbers exactly from the general query.

The dense path (``query.dense_metrics_sql``) aggregated every row of every indicator's trailing window (84 rows
of a monthly series) into some twenty sums, and Python classified every (indicator, rule). Most of that work
decides nothing: an unusual change needs the σ of 36 earlier changes only when the recent change is materially
worse, a saw-tooth needs the run of rises only after a drop of half. Here, per indicator (each part one
``(indicator_id, period)`` index range through ``LATERAL``, read newest first as the index returns it: nothing
is sorted):

- the *head*: the few latest rows with their values one period and N years earlier (``LEAD`` in one window
  node, ``LIMIT`` stops the read): the latest value and its neighbours, the recent changes of the unusual-change
  rules, the trend averages' sums;
- the *count*: rows and first period of the whole trailing window, for the gap test — from the indicator's
  series columns (``_run_known``) where they decide it, else counted (index only);
- per rule kind that needs more, a *gated* part: its expensive sums computed only for the indicators where one
  of its rules may breach (a subquery under ``CASE WHEN <gate>``: PostgreSQL does not even start it for the
  others);
- per rule, two bits: *evaluated* (the rule could be evaluated) and *candidate* (it may breach: Python's
  ``classify`` decides, exactly as before, and computes the breach's numbers). A pair evaluated and not a
  candidate is "evaluated, no breach" without a line of Python.

The gates are the first comparisons of ``classify.py`` multiplied out the same way (a change at least the lower
threshold worse; a drop of at least the rule's percentage; a reporting gap past the grace days): a gate may let
through a pair that then does not breach (the σ condition of an unusual change is Python's), never the reverse.
The control limits and the sustained declines are always candidates (their sums over the whole window are
computed for every indicator, as before). ``tests/indicators/detection/test_gated.py`` holds the outcome to
the general query's with Python classifying every pair.

Right for windows without a missing period only, like the dense path: the caller tests ``gap_free`` and sends
the others to the general query. Parameters: lo_id, hi_id (and the ids), as_of, as_of, as_of."""

from collections.abc import Sequence

from ..models import Direction, MeasurementType, Preliminary, RuleKind, TargetKind
from .dialect import POSTGRES, SQLITE, Dialect
from .query import METRIC_COLUMNS_FIXED, _is_count, _latest, candidates_cte, complete_sql, metric_columns
from .rules import STEP_MONTHS, Rule, WindowPlan

# Masks are bigints: a rule per bit. More active rules than this and the caller classifies every pair in Python.
MAX_RULES = 62

# The columns of every row of the gate; the others only of the rows with a pair that may breach.
_ALWAYS_SENT = frozenset({"indicator_id", "period", "step", "complete", "evaluated", "candidates"})

# Rule kinds whose pairs Python classifies for every indicator (their sums are needed to decide anything).
ALWAYS_CANDIDATE = frozenset({RuleKind.CONTROL_LIMIT, RuleKind.SUSTAINED})

# Rule kinds answered here, up to the pairs that may breach.
GATED_KINDS = frozenset(
    {
        RuleKind.PERIOD_CHANGE,
        RuleKind.YEAR_OVER_YEAR,
        RuleKind.TARGET,
        RuleKind.TREND_AVERAGE,
        RuleKind.UNUSUAL_CHANGE,
        RuleKind.SAWTOOTH,
        RuleKind.IMPOSSIBLE_VALUE,
        RuleKind.STALE,
    }
)


def _factor(rule: Rule, d: Dialect) -> str:
    return f"(CASE WHEN h.critical THEN {d.number(rule.critical_factor)} ELSE 1 END)"


def _least_threshold(rule: Rule, d: Dialect) -> str:
    """The lower of a change rule's yellow and red thresholds in percent for the row (``classify.change_thresholds``:
    a liaison's tolerance replaces yellow; the critical factor multiplies both)."""
    factor = _factor(rule, d)
    return d.least(f"COALESCE(h.tolerance, {d.number(rule.yellow)} * {factor})", f"{d.number(rule.red)} * {factor}")


def _worse(difference: str, *, neutral_both_ways: bool = True) -> str:
    """``classify._worse_amount``: how much worse ``difference`` (value − baseline) is."""
    neutral = f"abs({difference})" if neutral_both_ways else "NULL"
    return (
        f"(CASE h.desired_direction WHEN '{Direction.UP}' THEN -({difference})"
        f" WHEN '{Direction.DOWN}' THEN ({difference}) ELSE {neutral} END)"
    )


def _worse_gate(rule: Rule, d: Dialect, worse: str, base: str, magnitude: str) -> str:
    """Worse, and (a zero baseline, or) at least the lower threshold: ``worse * 100 >= threshold × |base|``."""
    least = _least_threshold(rule, d)
    at_least = d.at_least(f"{worse} * 100", f"{least} * abs({base})", f"100 * ({magnitude}) + {least} * abs({base})")
    return f"({d.above(worse, '0', magnitude)} AND (({base}) = 0 OR {at_least}))"


def _change_gate(rule: Rule, d: Dialect, numerator: str, count: str = "1") -> str:
    """``classify.change_breach`` may breach: worse, and (a zero baseline, or) at least the lower threshold."""
    worse = _worse(f"h.value * {count} - ({numerator})")
    return _worse_gate(rule, d, worse, numerator, f"abs(h.value * {count}) + abs({numerator})")


def _unusual_lag(years: int) -> str:
    return f"{years} * h.per_year"


def _unusual_earlier_count(rule: Rule, d: Dialect) -> str:
    """The earlier changes an unusual-change rule counts (distances lag … lag + window − 1), from the row count of
    a window without gaps — known without reading them: a change at distance d exists when the row d + lag
    does."""
    lag = _unusual_lag(rule.years)
    return d.greatest("0", f"{d.least(f'{lag} + {rule.window}', f'h.n_rows - {lag}')} - {lag}")


def _rule_bits(rule: Rule, d: Dialect = POSTGRES) -> tuple[str, str]:
    """(evaluated, candidate) of one rule as SQL booleans over the head row ``h``. The evaluated bits are exact
    on both databases (counts, nulls, kinds); the candidates are lenient on SQLite (``Dialect.at_least``)."""
    kind = rule.kind
    skipped = "h.preliminary = 1" if rule.preliminary == Preliminary.SKIP and kind != RuleKind.STALE else "false"
    evaluated, candidate = "true", "true"
    if kind == RuleKind.PERIOD_CHANGE:
        evaluated, candidate = "h.prev_value IS NOT NULL", _change_gate(rule, d, "h.prev_value")
    elif kind == RuleKind.YEAR_OVER_YEAR:
        evaluated, candidate = "h.yoy_value IS NOT NULL", _change_gate(rule, d, "h.yoy_value")
    elif kind == RuleKind.TARGET:
        evaluated = f"h.target_kind = '{TargetKind.NUMERIC}' AND h.target IS NOT NULL"
        candidate = _change_gate(rule, d, "h.target")
    elif kind == RuleKind.TREND_AVERAGE:
        count = f"(COALESCE(h.ta{rule.n}_c, 0) - 1)"
        evaluated = f"{count} > 0"
        candidate = _change_gate(rule, d, f"h.ta{rule.n}_s - h.value", count)
    elif kind == RuleKind.UNUSUAL_CHANGE:
        key = rule.unusual_key
        evaluated = (
            f"h.desired_direction <> '{Direction.NEUTRAL}'"
            f" AND COALESCE(h.{key}_rn, 0) >= {d.greatest('1', f'{rule.recent_months} / h.step')}"
            f" AND {_unusual_earlier_count(rule, d)} >= {rule.min_points}"
        )
        worse = _worse(f"h.{key}_rs", neutral_both_ways=False)
        candidate = _worse_gate(rule, d, worse, f"h.{key}_rb", f"abs(h.{key}_rs) + abs(h.{key}_rb)")
    elif kind == RuleKind.SAWTOOTH:
        evaluated = "h.step <> 12 AND h.lag_value IS NOT NULL"
        magnitude = "abs(h.value) + abs(h.lag_value)"
        drop = d.at_least(
            "(h.lag_value - h.value) * 100",
            f"{d.number(rule.drop_pct)} * abs(h.lag_value)",
            f"100 * ({magnitude}) + {d.number(rule.drop_pct)} * abs(h.lag_value)",
        )
        candidate = f"({d.above('h.lag_value', 'h.value', magnitude)} AND {drop})"
    elif kind == RuleKind.IMPOSSIBLE_VALUE:
        signed = (MeasurementType.NUMBER, MeasurementType.PERCENTAGE, MeasurementType.TIMESPAN)
        negative = ", ".join(f"'{t}'" for t in signed)
        candidate = (
            f"((h.measurement_type = '{MeasurementType.PERCENTAGE}' AND {d.above('h.value', '100', '100')})"
            f" OR (h.measurement_type IN ({negative}) AND {d.above('0', 'h.value', 'abs(h.value)')}))"
        )
    elif kind == RuleKind.STALE and d.postgres:
        # classify.stale_breach: the period after the latest is due at the end of the one after it (months added
        # one step at a time, each clamped to the month's length as ``add_months`` does); every day past the
        # grace days counts. (On SQLite Python decides: ``stale_breach`` needs nothing but the latest period.)
        due_after = "((h.period + make_interval(months => h.step)) + make_interval(months => h.step))::date"
        overdue = f"(h.as_of - {due_after} + 1 - {rule.grace_days})"
        candidate = f"({overdue} > 0 AND {overdue} >= {d.number(rule.yellow)})"
    evaluated = f"(NOT {skipped} AND {evaluated})"
    if kind in ALWAYS_CANDIDATE or kind not in GATED_KINDS:  # Python decides everything
        return evaluated, "true"
    return evaluated, f"({evaluated} AND {candidate})"


def stale_candidate_sql(rules: Sequence[Rule]) -> str:
    """Whether one of the reporting-gap ``rules`` may breach, over a row ``h`` (``indicator_id``, ``step``,
    ``period``: the latest, ``as_of``) — the gate of ``_rule_bits`` (PostgreSQL)."""
    return " OR ".join(f"({_rule_bits(rule)[1]})" for rule in rules) or "false"


def _mask(conditions: Sequence[str], d: Dialect = POSTGRES) -> str:
    terms = [f"(CASE WHEN {c} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(conditions)]
    return d.bigint(" + ".join(terms) or "0")


def _per_step(values: dict[int, int]) -> str:
    return "CASE c.step " + " ".join(f"WHEN {s} THEN {v}" for s, v in values.items()) + " END"


def _head_extent(plan: WindowPlan) -> tuple[dict[int, int], dict[int, int]]:
    """Per months-per-period, the rows the head keeps (the latest period's own numbers read that many) and the
    months it reads back (as far as their values N years earlier, never beyond the window)."""
    unusual_recent = {months for _years, months, _window in plan.unusual}
    head_rows: dict[int, int] = {}
    head_months: dict[int, int] = {}
    for step in sorted(set(STEP_MONTHS.values())):
        rows = max([2, *(n + 1 for n in plan.trend_ns), *(max(1, m // step) for m in unusual_recent)])
        back = max([1, *(y * (12 // step) for y in plan.lag_years)])
        head_rows[step] = rows
        head_months[step] = min(plan.lookback_months[step], (rows - 1 + back) * step)
    return head_rows, head_months


def _trend_sums(plan: WindowPlan) -> list[str]:
    """Both heads': each trend average's sum and count of the latest n + 1 rows (``x.dist``: the row's distance
    from the latest period)."""
    return [
        sum_or_count
        for n in plan.trend_ns
        for sum_or_count in (
            f"SUM(x.value) FILTER (WHERE x.dist <= {n}) AS ta{n}_s",
            f"COUNT(x.value) FILTER (WHERE x.dist <= {n}) AS ta{n}_c",
        )
    ]


def _head(plan: WindowPlan) -> tuple[list[str], dict[int, int], dict[int, int]]:
    """PostgreSQL's head: its aggregates, and per months-per-period the rows it keeps and the months it reads back
    (``_head_extent``)."""
    lags = plan.lag_years
    head_rows, head_months = _head_extent(plan)
    yoy = "x.lag1" if 1 in lags else "NULL"
    head = [
        "CASE WHEN BOOL_OR(x.preliminary) FILTER (WHERE x.dist = 0) THEN 1 ELSE 0 END AS preliminary",
        "MAX(x.value) FILTER (WHERE x.dist = 0) AS value",
        "MAX(x.prev) FILTER (WHERE x.dist = 0) AS lag_value",
        "MAX(x.value) FILTER (WHERE x.dist = 1) AS prev_value",
        f"MAX({yoy}) FILTER (WHERE x.dist = 0) AS yoy_value",
        f"MAX(CASE WHEN l.step = 12 THEN x.value ELSE x.value - {yoy} END) FILTER (WHERE x.dist = 0) AS point",
    ]
    head += _trend_sums(plan)
    for years, months, window in plan.unusual:
        key = f"u{years}_{months}_{window}"
        recent = f"FILTER (WHERE x.dist < GREATEST(1, {months} / l.step))"
        head += [
            f"COUNT(x.value - x.lag{years}) {recent} AS {key}_rn",
            f"SUM(x.value - x.lag{years}) {recent} AS {key}_rs",
            f"SUM(x.lag{years}) {recent} AS {key}_rb",
        ]
    return head, head_rows, head_months


def _gated_parts(plan: WindowPlan, rules: Sequence[Rule], candidates: Sequence[str]) -> dict[str, str]:
    """The parts computed only where one of their rules may breach, as columns over the head row ``h`` (name → SQL):
    an unusual change's earlier changes (``g_<key>``: their count, sum and sum of squares, an array), the
    saw-tooth's run of rises (``rise_run``). Each is a subquery under ``CASE WHEN <gate>``: PostgreSQL runs it only
    where the gate is open, and elsewhere the column is null at no cost (a ``LATERAL`` join with the gate in its
    ``WHERE`` started its plan for every indicator, gate closed or not)."""
    gates: dict[str, list[str]] = {}  # part → the candidate bits that open it
    for rule, candidate in zip(rules, candidates, strict=True):
        if rule.kind == RuleKind.UNUSUAL_CHANGE:
            gates.setdefault(rule.unusual_key, []).append(candidate)
        elif rule.kind == RuleKind.SAWTOOTH:
            gates.setdefault("sawtooth", []).append(candidate)

    def gate(name: str) -> str:
        return " OR ".join(f"({c})" for c in gates.get(name, [])) or "false"

    parts: dict[str, str] = {}
    for years, months, window in plan.unusual:
        key = f"u{years}_{months}_{window}"
        lag = _unusual_lag(years)
        # The `window` changes that end where the recent ones begin: rows from `lag` back, each against the row
        # `lag` further back.
        parts[f"g_{key}"] = f"""CASE WHEN {gate(key)} THEN (
            SELECT ARRAY[COUNT(x.e), SUM(x.e), SUM(x.e * x.e)] FROM (
                SELECT m.value - LEAD(m.value, {lag}) OVER s AS e, ROW_NUMBER() OVER s AS i
                FROM indicators_measurement m
                WHERE m.indicator_id = h.indicator_id
                  AND m.period <= (h.period - make_interval(months => {12 * years}))::date
                  AND m.period >= (h.period - make_interval(months => LEAST(h.lookback,
                                   {24 * years} + ({window} - 1) * h.step)))::date
                WINDOW s AS (ORDER BY m.period DESC)) x
            WHERE x.i <= {window}) END"""
    if RuleKind.SAWTOOTH in plan.kinds:
        parts["rise_run"] = f"""CASE WHEN {gate("sawtooth")} THEN (
            SELECT MIN(x.dist) FILTER (WHERE x.dist > 0 AND (x.prev IS NULL OR x.value < x.prev)) - 1
            FROM (
                SELECT m.value, ROW_NUMBER() OVER s - 1 AS dist, LEAD(m.value) OVER s AS prev
                FROM indicators_measurement m
                WHERE m.indicator_id = h.indicator_id AND m.period <= h.period
                  AND m.period >= (h.period - make_interval(months => h.lookback))::date
                WINDOW s AS (ORDER BY m.period DESC)) x) END"""
    return parts


# Where an unusual change's earlier changes sit in its part's array (``_gated_parts``).
_PART_SLOTS = {"n": 1, "s": 2, "q": 3}


def _whole_part(plan: WindowPlan) -> list[str]:
    """Sums over the whole trailing window, for every indicator: the always-candidate kinds'."""
    whole = []
    if RuleKind.SUSTAINED in plan.kinds:
        whole += [
            "MIN(x.dist) FILTER (WHERE x.prev IS NULL OR NOT x.value < x.prev) AS down_streak",
            "MIN(x.dist) FILTER (WHERE x.prev IS NULL OR NOT x.value > x.prev) AS up_streak",
        ]
    point = "CASE WHEN h.step = 12 THEN x.value ELSE x.value - x.lag1 END"
    for n in plan.control_windows:
        whole += [
            f"COUNT({point}) FILTER (WHERE x.dist <= {n}) AS cl{n}_n",
            f"SUM({point}) FILTER (WHERE x.dist <= {n}) AS cl{n}_s",
            f"SUM(({point}) * ({point})) FILTER (WHERE x.dist <= {n}) AS cl{n}_q",
        ]
    if not whole:
        return []
    return [
        f"""
        CROSS JOIN LATERAL (
            SELECT {", ".join(whole)} FROM (
                SELECT m.value, ROW_NUMBER() OVER s - 1 AS dist, LEAD(m.value) OVER s AS prev,
                       LEAD(m.value, h.per_year) OVER s AS lag1
                FROM indicators_measurement m
                WHERE m.indicator_id = h.indicator_id AND m.period <= h.period
                  AND m.period >= (h.period - make_interval(months => h.lookback))::date
                WINDOW s AS (ORDER BY m.period DESC)) x) g_whole"""
    ]


# The gap test from the indicator's series columns (``services.series``), over a row ``r`` (``period``: the latest
# as of the check, ``lookback``: the window's months): they decide it, without counting, when the latest period lies
# in the unbroken run and the window begins within the run or the run is the whole series. Then the window misses
# no period; its first period is the earliest whole period back from the latest within the lookback, or the run's
# first when it starts later.
def _run_known(d: Dialect, r: str) -> str:
    return (
        f"({r}.unbroken_since IS NOT NULL AND {r}.period >= {r}.unbroken_since AND {r}.period <= {r}.reported_through"
        f" AND ({r}.unbroken_since = {r}.reported_from"
        f" OR {r}.unbroken_since <= {d.months_before(f'{r}.period', f'{r}.lookback')}))"
    )


def _run_first_month(d: Dialect, r: str) -> str:
    """The month index (``Dialect.month_index``) of the first period of a window the columns decide."""
    back = f"{d.month_index(f'{r}.period')} - {r}.lookback / {r}.step * {r}.step"
    return d.greatest(d.month_index(f"{r}.unbroken_since"), back)


def gated_metrics_sql(plan: WindowPlan, rules: Sequence[Rule], *, ids: list[int] | None) -> str:
    """The rows of ``dense_metrics_sql`` (the same columns, and ``complete``: the window misses no period) plus the
    masks ``evaluated`` and ``candidates`` of ``rules`` (bit i: ``rules[i]``), for the indicators that have a value
    on or before the as-of date. The columns a gated part computes are null where its gate is closed, and a row's
    numbers (every column but ``_ALWAYS_SENT``) are null where none of its pairs may breach."""
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules")
    kinds = plan.kinds
    id_filter = f"AND i.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    leads = "".join(f", LEAD(m.value, {y} * l.per_year) OVER s AS lag{y}" for y in plan.lag_years)
    head, head_rows, head_months = _head(plan)
    bits = [_rule_bits(rule) for rule in rules]
    gated = _gated_parts(plan, rules, [candidate for _evaluated, candidate in bits])
    computed = {"down_streak", "up_streak"} if RuleKind.SUSTAINED in kinds else set()

    def fixed(column: str) -> str:
        if column in gated:
            return f"{gated[column]} AS {column}"
        if column in ("down_streak", "up_streak", "rise_run"):
            return column if column in computed else f"CAST(NULL AS INTEGER) AS {column}"
        return f"h.{column}"

    # An unusual change's earlier changes: a slot of its part's array (the others: the head's or the whole part's).
    in_part = {
        f"{key}_{name}": f"q.g_{key}[{slot}]"
        for key in (f"u{years}_{months}_{window}" for years, months, window in plan.unusual)
        for name, slot in _PART_SLOTS.items()
    }
    extra = [c for c in metric_columns(plan) if c not in METRIC_COLUMNS_FIXED]
    inner = [fixed(c) for c in METRIC_COLUMNS_FIXED] + [c for c in extra if c not in in_part]
    inner += [f"{sql} AS {name}" for name, sql in gated.items() if name.startswith("g_")]
    inner += [
        # A window the series columns decide misses no period (its rows are whole periods of the unbroken run).
        f"(h.known OR {complete_sql(POSTGRES, 'h.period', 'h.first_period', 'h.step', 'h.n_rows')}) AS complete",
        f"{_mask([evaluated for evaluated, _candidate in bits])} AS evaluated",
        f"{_mask([candidate for _evaluated, candidate in bits])} AS candidates",
    ]

    def outer(column: str) -> str:
        # Python reads a row's numbers only where a rule may breach: elsewhere they stay in the database (no
        # conversion to text or Decimal for the nine rows in ten that decide nothing).
        if column in _ALWAYS_SENT:
            return f"q.{column}"
        value = in_part.get(column, f"q.{column}")
        if _is_count(column):
            value = f"{value}::bigint"
        elif column not in METRIC_COLUMNS_FIXED:
            value = f"{value}::text"
        return f"CASE WHEN q.candidates <> 0 THEN {value} END AS {column}"

    select = [outer(c) for c in [*METRIC_COLUMNS_FIXED, *extra, "complete", "evaluated", "candidates"]]
    return f"""
    WITH {candidates_cte(id_filter)},
    l0 AS MATERIALIZED (
        SELECT c.id AS indicator_id, c.step, 12 / c.step AS per_year, c.desired_direction, c.critical, c.target,
               c.target_kind, c.tolerance, c.measurement_type, {_latest("c")} AS period, %s::date AS as_of,
               {_per_step(plan.lookback_months)} AS lookback, {_per_step(head_months)} AS head_months,
               {_per_step(head_rows)} AS head_rows, c.reported_from, c.reported_through, c.unbroken_since
        FROM cand c
    ),
    l AS MATERIALIZED (
        SELECT l0.*, {_run_known(POSTGRES, "l0")} AS known,
               ({POSTGRES.month_index("l0.period")} - {_run_first_month(POSTGRES, "l0")}) / l0.step + 1 AS known_rows
        FROM l0
    ),
    h AS (
        SELECT l.*, hd.*, CASE WHEN l.known THEN l.known_rows ELSE ct.n_rows END AS n_rows, ct.first_period
        FROM l
        CROSS JOIN LATERAL (
            SELECT {", ".join(head)} FROM (
                SELECT m.value, m.preliminary, ROW_NUMBER() OVER s - 1 AS dist, LEAD(m.value) OVER s AS prev {leads}
                FROM indicators_measurement m
                WHERE m.indicator_id = l.indicator_id AND m.period <= l.period
                  AND m.period >= (l.period - make_interval(months => l.head_months))::date
                WINDOW s AS (ORDER BY m.period DESC)
                LIMIT l.head_rows) x) hd
        CROSS JOIN LATERAL (
            SELECT COUNT(*) AS n_rows, MIN(m.period) AS first_period FROM indicators_measurement m
            WHERE m.indicator_id = l.indicator_id AND m.period <= l.period
              AND m.period >= (l.period - make_interval(months => l.lookback))::date AND NOT l.known) ct
        WHERE l.period IS NOT NULL
    )
    SELECT {", ".join(select)}
    FROM (SELECT {", ".join(inner)} FROM h {"".join(_whole_part(plan))} OFFSET 0) q
    ORDER BY q.indicator_id"""


def _distances(plan: WindowPlan) -> list[tuple[int, int, int]]:
    """(months per period, from, to): the periods before the latest, ``from <= distance < to``, that SQLite's
    head reads — its own rows and, for each "N years earlier" the rules compare with, as many rows that far back."""
    head_rows, head_months = _head_extent(plan)
    ranges = []
    for step, rows in head_rows.items():
        end = head_months[step] // step + 1  # nothing beyond the head (nor the window)
        merged: list[list[int]] = []
        for lo in sorted({0, *(y * (12 // step) for y in plan.lag_years)}):
            hi = min(lo + rows, end)
            if lo >= hi:
                continue
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        ranges += [(step, lo, hi) for lo, hi in merged]
    return ranges


def _month_start(month_index: str) -> str:
    """SQLite: the first day of the month ``month_index`` (year × 12 + month) as ISO text, without parsing a date."""
    return f"printf('%%04d-%%02d-01', ({month_index} - 1) / 12, ({month_index} - 1) %% 12 + 1)"


def gated_head_sql(plan: WindowPlan, rules: Sequence[Rule], *, ids: list[int] | None) -> str:
    """SQLite's gate: per indicator with a value on or before the as-of date, its latest period, the row count and
    first period of its trailing window (for the caller's gap test) and the masks ``evaluated`` and
    ``candidates`` of ``rules`` as ``gated_metrics_sql`` computes them, from the same head numbers — in floats,
    the candidates lenient (``Dialect.at_least``). The caller reads the candidates' numbers exactly from the
    general query. Parameters: lo_id, hi_id (and the ids), as_of, as_of, as_of.

    Without ``LATERAL``, and with window functions and aggregates costing SQLite per row, the head reads only the
    periods its numbers need (``_distances``: a few index ranges per indicator, bounded by month) and finds each
    row by its distance from the latest period. That is right for a window without a missing period, the only
    kind the caller keeps: there the row N periods back is the one at distance N, and a row has a value N periods
    earlier where the window reaches that far (``n_rows``)."""
    d = SQLITE
    id_filter = f"AND i.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    ranges = ", ".join(f"({step}, {lo}, {hi})" for step, lo, hi in _distances(plan))
    at = "MAX(x.value) FILTER (WHERE x.dist = {})"
    lags = plan.lag_years
    head = [
        "COALESCE(MAX(x.preliminary) FILTER (WHERE x.dist = 0), 0) AS preliminary",
        f"{at.format(0)} AS value",
        f"{at.format(1)} AS lag_value",
        f"{at.format(1)} AS prev_value",
        f"{at.format('x.per_year') if 1 in lags else 'NULL'} AS yoy_value",
    ]
    head += _trend_sums(plan)
    for years, months, window in plan.unusual:
        key = f"u{years}_{months}_{window}"
        recent, lag = d.greatest("1", f"{months} / x.step"), f"{years} * x.per_year"
        earlier = f"FILTER (WHERE x.dist >= {lag} AND x.dist < {lag} + {recent})"  # the values compared with
        latest = f"FILTER (WHERE x.dist < {recent} AND x.dist + {lag} < x.n_rows)"  # those that have one
        head += [
            f"COUNT(*) {earlier} AS {key}_rn",
            f"SUM(x.value) {latest} - SUM(x.value) {earlier} AS {key}_rs",
            f"SUM(x.value) {earlier} AS {key}_rb",
        ]
    columns = ", ".join(f"hd.{line.rsplit(' AS ', 1)[1]}" for line in head)
    bits = [_rule_bits(rule, d) for rule in rules]
    # SQLite's date() rolls a day past the end of a month over into the next (2024-02-29 less 12 months is
    # 2023-03-01), so for a latest period after the 28th its window may begin a period later than the columns
    # say: those windows are counted.
    known = f"({_run_known(d, 'l')} AND CAST(substr(l.period, 9, 2) AS INTEGER) <= 28)"
    first_month = _run_first_month(d, "l")
    return f"""
    WITH {candidates_cte(id_filter)},
    l AS MATERIALIZED (
        SELECT c.id AS indicator_id, c.step, 12 / c.step AS per_year, c.desired_direction, c.critical, c.target,
               c.target_kind, c.tolerance, c.measurement_type, {_latest("c")} AS period, %s AS as_of,
               {_per_step(plan.lookback_months)} AS lookback, c.reported_from, c.reported_through, c.unbroken_since
        FROM cand c
    ),
    ct AS MATERIALIZED (
        -- The row count and first period of each window: from the series columns where they decide them (the first
        -- period as the first day of its month: the caller reads its month, the head a lower bound), else counted.
        SELECT l.indicator_id AS count_of, {d.month_index("l.period")} AS lk,
               ({d.month_index("l.period")} - {first_month}) / l.step + 1 AS n_rows,
               CASE WHEN {d.month_index("l.unbroken_since")} = {first_month} THEN l.unbroken_since
                    ELSE {_month_start(first_month)} END AS first_period
        FROM l WHERE {known}
        UNION ALL
        SELECT l.indicator_id AS count_of, {d.month_index("l.period")} AS lk, COUNT(*) AS n_rows,
               MIN(m.period) AS first_period
        FROM l JOIN indicators_measurement m ON m.indicator_id = l.indicator_id AND m.period <= l.period
             AND m.period >= {d.months_before("l.period", "l.lookback")}
        WHERE NOT {known}
        GROUP BY l.indicator_id
    ),
    r (step, lo, hi) AS (VALUES {ranges}),
    b AS MATERIALIZED (
        -- Each range as days: from the first of its earliest month, before the first of the month after it.
        SELECT l.indicator_id, l.step, l.per_year, l.period, ct.n_rows, ct.lk, ct.first_period,
               {_month_start("ct.lk - (r.hi - 1) * l.step")} AS from_day,
               {_month_start("ct.lk - r.lo * l.step + 1")} AS before_day
        FROM l JOIN ct ON ct.count_of = l.indicator_id JOIN r ON r.step = l.step
    ),
    x AS (
        SELECT b.indicator_id, b.step, b.per_year, b.n_rows, m.value, m.preliminary,
               (b.lk - {d.month_index("m.period")}) / b.step AS dist
        FROM b JOIN indicators_measurement m ON m.indicator_id = b.indicator_id
             AND m.period >= MAX(b.first_period, b.from_day) AND m.period < b.before_day AND m.period <= b.period
    ),
    hd AS (SELECT x.indicator_id AS head_of, {", ".join(head)} FROM x GROUP BY x.indicator_id),
    h AS (
        SELECT l.*, {columns}, ct.n_rows, ct.first_period
        FROM l JOIN ct ON ct.count_of = l.indicator_id JOIN hd ON hd.head_of = l.indicator_id
    )
    SELECT h.indicator_id, h.period, h.first_period, h.n_rows, h.step,
           {_mask([evaluated for evaluated, _candidate in bits], d)} AS evaluated,
           {_mask([candidate for _evaluated, candidate in bits], d)} AS candidates
    FROM h
    ORDER BY h.indicator_id"""
