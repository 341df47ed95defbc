"""Synthetic series for the benchmark, written straight into PostgreSQL, and the "floor": one hand-written SQL
statement computing the default rules' breaches for those (monthly, gap-free) series into a scratch table."""

import datetime as dt

from django.db import connection

from indicators.detection.rules import params_of
from indicators.models import Agency, RuleKind, ThresholdRule
from indicators.services.series import indicator_series_refresh

INDICATOR_SQL = """
INSERT INTO indicators_indicator (agency_id, external_id, parent_id, name, description, service, goal, unit,
    measurement_type, frequency, desired_direction, critical, target, target_kind, public_impact_weight, tolerance,
    tolerance_rationale, active, data_changed_at, rag, id_from_source)
SELECT %(agency)s, 'BENCH-' || g, NULL, 'Synthetic indicator ' || g, '', '', '', '', 'number', 'monthly',
       CASE WHEN g %% 10 = 0 THEN 'neutral' WHEN g %% 2 = 0 THEN 'up' ELSE 'down' END,
       g %% 4 = 0,
       CASE WHEN g %% 4 = 1 THEN round((50 + (g::bigint * 7919) %% 1000) * 1.02, 2) END,
       CASE WHEN g %% 4 = 1 THEN 'numeric' ELSE 'none' END,
       1, NULL, '', true, now(), '', true
FROM generate_series(1, %(n)s) g
"""

# base level, yearly trend of −5 % … +5 %, ±15 % seasonality, ±2 % noise, and a 20 % level shift over the last
# six months of one series in 17.
MEASUREMENT_SQL = """
INSERT INTO indicators_measurement (indicator_id, period, value, preliminary, batch_id, updated_at)
SELECT s.id, (%(start)s::date + make_interval(months => j))::date,
       round((s.base * (1 + s.trend * j / 12.0) * (1 + 0.15 * sin(2 * pi() * j / 12.0))
              * (1 + 0.04 * (random() - 0.5))
              * CASE WHEN s.shifted AND j >= %(m)s - 6 THEN 0.8 ELSE 1 END)::numeric, 2),
       false, NULL, now()
FROM (SELECT id, 50 + (id * 7919) %% 1000 AS base, ((id %% 21) - 10) / 200.0 AS trend, id %% 17 = 0 AS shifted
      FROM indicators_indicator WHERE external_id LIKE 'BENCH-%%') s
CROSS JOIN generate_series(0, %(m)s - 1) j
"""


def build_series(*, n: int, m: int, start: dt.date) -> None:
    agency, _ = Agency.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark agency"})
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE escalations_event, escalations_flag, indicators_checkshard, indicators_checkrun, "
            "indicators_measurementrevision, indicators_measurement CASCADE"
        )
        cursor.execute("DELETE FROM indicators_thresholdrule WHERE scope <> 'all'")
        cursor.execute("DELETE FROM indicators_indicator")
        cursor.execute(INDICATOR_SQL, {"agency": agency.pk, "n": n})
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(MEASUREMENT_SQL, {"start": start, "m": m})
        cursor.execute("SELECT id FROM indicators_indicator")
        ids = [row[0] for row in cursor.fetchall()]
    # The series' first and latest periods and unbroken run, as the importer records them.
    indicator_series_refresh(ids)
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load in production (it is off on the development machine): statistics,
        # and the visibility map that lets "latest period" probes read the index alone.
        cursor.execute("VACUUM ANALYZE indicators_indicator")
        cursor.execute("VACUUM ANALYZE indicators_measurement")


# The active rules the floor computes: the seeded defaults (migration 0008).
FLOOR_KINDS = {RuleKind.TARGET: 1, RuleKind.SAWTOOTH: 1, RuleKind.IMPOSSIBLE_VALUE: 1, RuleKind.STALE: 1}
UNUSUAL_RULES = 2  # unusual change on a year and on two years earlier


def floor_params(as_of: dt.date) -> dict:
    """The active rules' ids and numbers (thresholds, critical factors, parameters with the kinds' defaults
    filled in), as the floor statement needs them. The floor is written for the seeded default rules: it
    refuses any other set rather than compare against rules it does not compute."""
    rules = list(ThresholdRule.objects.filter(active=True).order_by("id"))
    by_kind: dict[str, list[ThresholdRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    expected = FLOOR_KINDS | {RuleKind.UNUSUAL_CHANGE: UNUSUAL_RULES}
    found = {kind: len(kind_rules) for kind, kind_rules in by_kind.items()}
    if found != expected or any(rule.scope != "all" for rule in rules):
        raise RuntimeError(f"the floor computes the seeded default rules {expected} (scope all); active: {found}")

    def numbers(prefix: str, rule: ThresholdRule) -> dict:
        return {
            f"{prefix}_id": rule.id,
            f"{prefix}_y": rule.yellow,
            f"{prefix}_r": rule.red,
            f"{prefix}_cf": rule.critical_factor,
        }

    params: dict[str, object] = {"as_of": as_of}
    (target,), (sawtooth,), (impossible,), (stale,) = (
        by_kind[k] for k in (RuleKind.TARGET, RuleKind.SAWTOOTH, RuleKind.IMPOSSIBLE_VALUE, RuleKind.STALE)
    )
    params |= numbers("tgt", target) | numbers("saw", sawtooth) | numbers("stale", stale)
    params["imp_id"] = impossible.id
    params["saw_drop"] = params_of(sawtooth.kind, sawtooth.params)["drop_pct"]
    params["grace"] = params_of(stale.kind, stale.params)["grace_days"]
    params["saw_cap"] = max(sawtooth.red, sawtooth.yellow)
    # Months read back from each series' latest period, as the engine reads them (rules.window_plan): the
    # saw-tooth's red run, and for an unusual change the value `years` earlier of the earliest change of its
    # window, which itself ends `years` before the latest period.
    lookback = int(sawtooth.red) + 1
    unusual = sorted(by_kind[RuleKind.UNUSUAL_CHANGE], key=lambda r: (params_of(r.kind, r.params)["years"], r.id))
    for prefix, rule in zip(("ua", "ub"), unusual, strict=True):
        p = params_of(rule.kind, rule.params)
        params |= numbers(prefix, rule) | {
            f"{prefix}_lag": 12 * p["years"],  # months (= rows: monthly, gap-free)
            f"{prefix}_recent": max(1, p["recent_months"] // 1),  # periods of a monthly series
            f"{prefix}_window": p["window"],
            f"{prefix}_min": p["min_points"],
            f"{prefix}_sy": p["sigma_yellow"],
            f"{prefix}_sr": p["sigma_red"],
        }
        lookback = max(lookback, 24 * p["years"] + p["window"])
    params["lookback"] = lookback
    return params


def _worse(difference: str) -> str:
    """How much worse ``difference`` (value − baseline) is in the indicator's desired direction."""
    return f"CASE l.dir WHEN 'up' THEN -({difference}) WHEN 'down' THEN ({difference}) ELSE abs({difference}) END"


def _factor(prefix: str) -> str:
    return f"CASE WHEN l.critical THEN %({prefix}_cf)s ELSE 1 END"


def _unusual(prefix: str) -> str:
    """One unusual-change rule (classify._unusual): the recent changes summed and worse-signed (``worse``), their
    baselines summed (``scale``), the earlier changes' n, Σ, Σ² — percent and σ conditions multiplied out."""
    p = prefix

    def level(colour: str, percent: str, sigmas: str) -> str:
        return (
            f"WHEN (u.scale = 0 OR u.worse * 100 >= %({p}_{percent})s * u.f * u.scale)"
            f" AND u.worse * u.worse * u.n * (u.n - 1)"
            f" >= %({p}_{sigmas})s * %({p}_{sigmas})s * %({p}_recent)s * (u.n * u.q - u.s * u.s) THEN '{colour}'"
        )

    return f"""
    SELECT u.indicator_id, %({p}_id)s::bigint AS rule_id,
           CASE {level("red", "r", "sr")} {level("yellow", "y", "sy")} END AS severity
    FROM (SELECT l.indicator_id, CASE l.dir WHEN 'up' THEN -l.{p}_rs ELSE l.{p}_rs END AS worse,
                 abs(l.{p}_rb) AS scale, l.{p}_n AS n, l.{p}_s AS s, l.{p}_q AS q, {_factor(p)} AS f
          FROM l
          WHERE l.dir <> 'neutral' AND l.{p}_rn >= %({p}_recent)s AND l.{p}_n >= %({p}_min)s) u
    WHERE u.worse > 0"""


def _unusual_sums(prefix: str) -> str:
    """The aggregates one unusual-change rule needs (query.metrics_sql), from the rows by distance: the latest
    ``recent`` changes against ``lag`` months earlier, and the ``window`` changes ending ``lag`` before."""
    p, lag = prefix, f"lag_{prefix}"
    recent = f"FILTER (WHERE w.dist < %({p}_recent)s)"
    earlier = f"FILTER (WHERE w.dist >= %({p}_lag)s AND w.dist < %({p}_lag)s + %({p}_window)s)"
    change = f"(w.value - w.{lag})"
    return f"""
           COUNT(w.{lag}) {recent} AS {p}_rn, SUM({change}) {recent} AS {p}_rs, SUM(w.{lag}) {recent} AS {p}_rb,
           COUNT(w.{lag}) {earlier} AS {p}_n, SUM({change}) {earlier} AS {p}_s,
           SUM({change} * {change}) {earlier} AS {p}_q"""


# The benchmark's series only: monthly and gap-free (so "N months earlier" is "N rows earlier" and the latest
# period on or before the as-of date is the earlier of the importer's reported_through and the as-of month), no
# liaison tolerance, no preliminary values, the seeded default rules (floor_params). Four steps, one statement:
#   latest      each active indicator's latest period and its attributes;
#   w           one sort, one window pass over the rows the rules read (as far back as the engine reads), newest
#               first: each row's distance in months from the latest period (its row number), the previous
#               value and the values 12·years months earlier of both unusual-change rules (LEAD);
#   a           one group per indicator (GROUP BY over the window's sorted output, no per-row subquery): the
#               latest value and its predecessor, the saw-tooth's run of rises before the latest period (the
#               nearest earlier fall, or the first row read), and each unusual-change rule's sums picked by
#               distance (FILTER);
#   breaches    each rule's classification, comparisons multiplied out in exact numeric as classify.py does,
#               one (indicator_id, rule_id, severity) row per breach.
PREVIOUS_FLOOR_SQL = f"""
CREATE UNLOGGED TABLE bench_floor AS
WITH latest AS (
    SELECT i.id, i.desired_direction AS dir, i.critical, i.target, i.target_kind, i.measurement_type,
           LEAST(i.reported_through, date_trunc('month', %(as_of)s::date)::date) AS latest
    FROM indicators_indicator i
    WHERE i.active AND i.reported_through IS NOT NULL
), w AS (
    -- Newest first: row d (from 0) is d months before the latest period, LEAD(…, N) is N months earlier.
    SELECT m.indicator_id, m.value,
           ROW_NUMBER() OVER s - 1 AS dist,
           LEAD(m.value) OVER s AS prev,
           LEAD(m.value, %(ua_lag)s) OVER s AS lag_ua,
           LEAD(m.value, %(ub_lag)s) OVER s AS lag_ub
    FROM latest l
    JOIN indicators_measurement m ON m.indicator_id = l.id AND m.period <= l.latest
         AND m.period >= (l.latest - make_interval(months => %(lookback)s))::date
    WINDOW s AS (PARTITION BY m.indicator_id ORDER BY m.period DESC)
), a AS (
    SELECT w.indicator_id,
           MAX(w.value) FILTER (WHERE w.dist = 0) AS value,
           MAX(w.prev) FILTER (WHERE w.dist = 0) AS prev,
           MIN(w.dist) FILTER (WHERE w.dist > 0 AND (w.prev IS NULL OR w.value < w.prev)) - 1 AS rise_run,
           {_unusual_sums("ua")},
           {_unusual_sums("ub")}
    FROM w
    GROUP BY w.indicator_id
), l AS (
    SELECT a.*, latest.dir, latest.critical, latest.target, latest.target_kind, latest.measurement_type,
           latest.latest
    FROM a JOIN latest ON latest.id = a.indicator_id
), breaches AS (
    SELECT t.indicator_id, %(tgt_id)s::bigint AS rule_id, CASE
        WHEN t.target = 0 THEN 'red'
        WHEN t.worse * 100 >= %(tgt_r)s * t.f * abs(t.target) THEN 'red'
        WHEN t.worse * 100 >= %(tgt_y)s * t.f * abs(t.target) THEN 'yellow' END AS severity
    FROM (SELECT l.indicator_id, l.target, {_worse("l.value - l.target")} AS worse, {_factor("tgt")} AS f
          FROM l WHERE l.target_kind = 'numeric' AND l.target IS NOT NULL) t
    WHERE t.worse > 0
UNION ALL {_unusual("ua")}
UNION ALL {_unusual("ub")}
UNION ALL
    SELECT l.indicator_id, %(saw_id)s::bigint, CASE WHEN l.rise_run >= %(saw_r)s THEN 'red' ELSE 'yellow' END
    FROM l
    WHERE l.value < l.prev AND (l.prev - l.value) * 100 >= %(saw_drop)s * abs(l.prev)
          AND l.rise_run > 0 AND l.rise_run >= %(saw_y)s
UNION ALL
    SELECT l.indicator_id, %(imp_id)s::bigint, 'red'
    FROM l
    WHERE l.value < 0 AND l.measurement_type IN ('number', 'percentage', 'timespan')
       OR l.value > 100 AND l.measurement_type = 'percentage'
UNION ALL
    -- The month after the latest is due at its end; every day past the grace days counts.
    SELECT t.indicator_id, %(stale_id)s::bigint, CASE WHEN t.overdue >= %(stale_r)s THEN 'red' ELSE 'yellow' END
    FROM (SELECT l.indicator_id,
                 %(as_of)s::date - ((l.latest + interval '2 months')::date - 1) - %(grace)s AS overdue
          FROM l) t
    WHERE t.overdue > 0 AND t.overdue >= %(stale_y)s
)
SELECT * FROM breaches WHERE severity IS NOT NULL
"""


# ---------------------------------------------------------------------------------------------------------------
# The floor (issue 17).


def _bounds(prefix: str) -> str:
    """Per indicator, once: the dates that bound an unusual-change rule's rows (recent, earlier)."""
    p = prefix
    return (
        f"(x.latest - make_interval(months => %({p}_recent)s))::date AS {p}_r0,"
        f" (x.latest - make_interval(months => %({p}_lag)s))::date AS {p}_e1,"
        f" (x.latest - make_interval(months => %({p}_lag)s + %({p}_window)s))::date AS {p}_e0"
    )


def _sums(prefix: str, counted: bool) -> str:
    """One unusual-change rule's sums over the rows of ``w`` (its change ``d_…`` on the value L months earlier,
    ``lag_…``), each picked by date against the bounds of ``l`` (FILTER). Without ``counted`` (a gap-free window,
    where the row d months before the latest has a value L rows back iff d + L < n_rows) the counts follow from
    n_rows, once per indicator instead of once per row."""
    p = prefix
    recent = f"FILTER (WHERE w.period > l.{p}_r0)"
    earlier = f"FILTER (WHERE w.period <= l.{p}_e1 AND w.period > l.{p}_e0)"
    if counted:
        counts = f"COUNT(w.d_{p}) {recent} AS {p}_rn, COUNT(w.d_{p}) {earlier} AS {p}_n"
    else:
        counts = (
            f"GREATEST(0, LEAST(%({p}_recent)s, COUNT(*) - %({p}_lag)s)) AS {p}_rn,"
            f" GREATEST(0, LEAST(%({p}_lag)s + %({p}_window)s, COUNT(*) - %({p}_lag)s) - %({p}_lag)s) AS {p}_n"
        )
    return (
        f"{counts}, SUM(w.d_{p}) {recent} AS {p}_rs, SUM(w.lag_{p}) {recent} AS {p}_rb,"
        f" SUM(w.d_{p}) {earlier} AS {p}_s, SUM(w.d_{p} * w.d_{p}) {earlier} AS {p}_q"
    )


def _aggregates(counted: bool) -> str:
    return f"""
    COUNT(*) AS n_rows, MIN(w.period) AS first_period,
    MAX(w.value) FILTER (WHERE w.period = l.latest) AS value,
    MAX(w.prev) FILTER (WHERE w.period = l.latest) AS prev,
    COUNT(*) - 1 - MAX(w.rn) FILTER (WHERE w.period < l.latest AND (w.prev IS NULL OR w.value < w.prev))
        AS rise_run,
    {_sums("ua", counted)},
    {_sums("ub", counted)}"""


_LATEST = f"""
    SELECT i.id AS indicator_id, i.desired_direction AS dir, i.critical, i.target, i.target_kind,
           i.measurement_type, x.latest, (x.latest - make_interval(months => %(lookback)s))::date AS lo,
           {_bounds("ua")}, {_bounds("ub")}
    FROM indicators_indicator i
    CROSS JOIN LATERAL (SELECT CASE WHEN i.reported_through <= %(as_of)s THEN i.reported_through
        ELSE (SELECT MAX(m.period) FROM indicators_measurement m
              WHERE m.indicator_id = i.id AND m.period <= %(as_of)s) END AS latest OFFSET 0) x
    WHERE i.active AND x.latest IS NOT NULL"""


def _classify(detail: bool) -> str:
    """The breaches of ``l``: one (indicator_id, rule_id, severity) row per (indicator, rule) evaluated (a NULL
    severity, no breach, is dropped by the caller), each rule's comparisons multiplied out in exact numeric as
    classify.py does. With ``detail``, also what a signal records (classify._breach): the case's category, the
    period, value, baseline, change, measure in the kind's unit and the thresholds."""

    def extra(
        category: str,
        period: str,
        value: str,
        baseline: str,
        change: str,
        measure: str,
        unit: str,
        yellow: str,
        red: str,
    ) -> str:
        if not detail:
            return ""
        return (
            f", '{category}'::text AS category, {period}::date AS period, {value}::numeric AS value,"
            f" {baseline}::numeric AS baseline, {change}::numeric AS change, {measure}::numeric AS measure,"
            f" '{unit}'::text AS unit, {yellow}::numeric AS yellow, {red}::numeric AS red"
        )

    def unusual(p: str) -> str:
        def level(colour: str, percent: str, sigmas: str) -> str:
            return (
                f"WHEN (u.scale = 0 OR u.worse * 100 >= %({p}_{percent})s * u.f * u.scale)"
                f" AND u.worse * u.worse * u.n * (u.n - 1)"
                f" >= %({p}_{sigmas})s * %({p}_{sigmas})s * %({p}_recent)s * (u.n * u.q - u.s * u.s) THEN '{colour}'"
            )

        scaled = "CASE WHEN u.scale = 0 THEN NULL ELSE {} / u.scale END"
        signal = extra(
            "performance",
            "u.latest",
            "u.value",
            f"u.rb / %({p}_recent)s",
            scaled.format("u.rs"),
            scaled.format("u.worse * 100"),
            "percent",
            f"%({p}_y)s * u.f",
            f"%({p}_r)s * u.f",
        )
        return f"""
    SELECT u.indicator_id, %({p}_id)s::bigint AS rule_id,
           CASE {level("red", "r", "sr")} {level("yellow", "y", "sy")} END AS severity {signal}
    FROM (SELECT l.indicator_id, l.latest, l.value, l.{p}_rs AS rs, l.{p}_rb AS rb,
                 CASE l.dir WHEN 'up' THEN -l.{p}_rs ELSE l.{p}_rs END AS worse,
                 abs(l.{p}_rb) AS scale, l.{p}_n AS n, l.{p}_s AS s, l.{p}_q AS q, {_factor(p)} AS f
          FROM l
          WHERE l.dir <> 'neutral' AND l.{p}_rn >= %({p}_recent)s AND l.{p}_n >= %({p}_min)s) u
    WHERE u.worse > 0"""

    target_scaled = "CASE WHEN t.target = 0 THEN NULL ELSE {} / abs(t.target) END"
    target = extra(
        "performance",
        "t.latest",
        "t.value",
        "t.target",
        target_scaled.format("(t.value - t.target)"),
        target_scaled.format("t.worse * 100"),
        "percent",
        "%(tgt_y)s * t.f",
        "%(tgt_r)s * t.f",
    )
    sawtooth = extra(
        "data_quality",
        "l.latest",
        "l.value",
        "l.prev",
        "NULL",
        "LEAST(l.rise_run, %(saw_cap)s)",
        "periods",
        "%(saw_y)s",
        "%(saw_r)s",
    )
    impossible = extra(
        "data_quality",
        "l.latest",
        "l.value",
        "CASE WHEN l.value > 100 AND l.measurement_type = 'percentage' THEN 100 ELSE 0 END",
        "NULL",
        "NULL",
        "",
        "NULL",
        "NULL",
    )
    stale = extra(
        "data_quality",
        "(t.latest + interval '1 month')",
        "NULL",
        "NULL",
        "NULL",
        "t.overdue",
        "days",
        "%(stale_y)s",
        "%(stale_r)s",
    )
    return f"""
breaches AS (
    SELECT t.indicator_id, %(tgt_id)s::bigint AS rule_id, CASE
        WHEN t.target = 0 THEN 'red'
        WHEN t.worse * 100 >= %(tgt_r)s * t.f * abs(t.target) THEN 'red'
        WHEN t.worse * 100 >= %(tgt_y)s * t.f * abs(t.target) THEN 'yellow' END AS severity {target}
    FROM (SELECT l.indicator_id, l.latest, l.value, l.target, {_worse("l.value - l.target")} AS worse,
                 {_factor("tgt")} AS f
          FROM l WHERE l.target_kind = 'numeric' AND l.target IS NOT NULL) t
    WHERE t.worse > 0
UNION ALL {unusual("ua")}
UNION ALL {unusual("ub")}
UNION ALL
    SELECT l.indicator_id, %(saw_id)s::bigint, CASE WHEN l.rise_run >= %(saw_r)s THEN 'red' ELSE 'yellow' END
           {sawtooth}
    FROM l
    WHERE l.value < l.prev AND (l.prev - l.value) * 100 >= %(saw_drop)s * abs(l.prev)
          AND l.rise_run > 0 AND l.rise_run >= %(saw_y)s
UNION ALL
    SELECT l.indicator_id, %(imp_id)s::bigint, 'red' {impossible}
    FROM l
    WHERE l.value < 0 AND l.measurement_type IN ('number', 'percentage', 'timespan')
       OR l.value > 100 AND l.measurement_type = 'percentage'
UNION ALL
    -- The month after the latest is due at its end; every day past the grace days counts.
    SELECT t.indicator_id, %(stale_id)s::bigint, CASE WHEN t.overdue >= %(stale_r)s THEN 'red' ELSE 'yellow' END
           {stale}
    FROM (SELECT l.indicator_id, l.latest,
                 %(as_of)s::date - ((l.latest + interval '2 months')::date - 1) - %(grace)s AS overdue
          FROM l) t
    WHERE t.overdue > 0 AND t.overdue >= %(stale_y)s
)"""


_LCOLS = "l.indicator_id, l.dir, l.critical, l.target, l.target_kind, l.measurement_type, l.latest, l.lo, " + ", ".join(
    f"l.{p}_{b}" for p in ("ua", "ub") for b in ("r0", "e1", "e0")
)

# Whether an indicator's window has every month from its first row to its latest.
_GAP_FREE = (
    "l.n_rows = (EXTRACT(YEAR FROM age(l.latest, l.first_period)) * 12"
    " + EXTRACT(MONTH FROM age(l.latest, l.first_period)) + 1)"
)
_MONTH = "(EXTRACT(YEAR FROM m.period)::integer * 12 + EXTRACT(MONTH FROM m.period)::integer)"


# A window with a missing month: "N months earlier" found by month number (RANGE frames), for those only.
_GAPPED = f"""
    SELECT {_LCOLS}, s.*
    FROM a l CROSS JOIN LATERAL (
        SELECT {_aggregates(True)}
        FROM (SELECT w.*, w.value - w.lag_ua AS d_ua, w.value - w.lag_ub AS d_ub FROM (
              SELECT m.period, m.value, ROW_NUMBER() OVER s AS rn, LAG(m.value) OVER s AS prev,
                     FIRST_VALUE(m.value) OVER (s RANGE BETWEEN %(ua_lag)s PRECEDING AND %(ua_lag)s PRECEDING)
                         AS lag_ua,
                     FIRST_VALUE(m.value) OVER (s RANGE BETWEEN %(ub_lag)s PRECEDING AND %(ub_lag)s PRECEDING)
                         AS lag_ub
              FROM (SELECT m.period, m.value, {_MONTH} AS k FROM indicators_measurement m
                    WHERE m.indicator_id = l.indicator_id AND m.period <= l.latest AND m.period >= l.lo) m
              WINDOW s AS (ORDER BY m.k)) w) w
    ) s
    WHERE NOT ({_GAP_FREE})"""

# The floor's rows: one per active indicator with a latest period, carrying what every rule needs at it.
#   latest  each indicator's latest period on or before the date (its reported_through, else one index probe)
#           and, once per indicator, the dates that bound each rule's rows;
#   a       per indicator, through LATERAL, its trailing window read as one (indicator_id, period) index range,
#           already in period order (no sort): one window node (the previous value, and the values 12 and 24
#           rows earlier: LAG), then one aggregate row (the latest value, the saw-tooth's run, each
#           unusual-change rule's sums picked by date with FILTER; the counts follow from the row count);
#   l       the indicators whose window has every month (row count = months spanned) as they are, and the
#           others computed again with "N months earlier" found by month number (RANGE frames): the LAGs of
#           `a` would slide onto older periods there. None on the benchmark's series: the check costs nothing.
_CTES = f"""
latest AS MATERIALIZED ({_LATEST}
), a AS MATERIALIZED (
    SELECT l.*, s.*
    FROM latest l CROSS JOIN LATERAL (
        SELECT {_aggregates(False)}
        FROM (SELECT m.period, m.value, ROW_NUMBER() OVER s AS rn, LAG(m.value) OVER s AS prev,
                     LAG(m.value, %(ua_lag)s) OVER s AS lag_ua, LAG(m.value, %(ub_lag)s) OVER s AS lag_ub,
                     m.value - LAG(m.value, %(ua_lag)s) OVER s AS d_ua,
                     m.value - LAG(m.value, %(ub_lag)s) OVER s AS d_ub
              FROM indicators_measurement m
              WHERE m.indicator_id = l.indicator_id AND m.period <= l.latest AND m.period >= l.lo
              WINDOW s AS (ORDER BY m.period)) w
    ) s
), l AS MATERIALIZED (
    SELECT * FROM a l WHERE {_GAP_FREE}
    UNION ALL {_GAPPED}
)"""

FLOOR_SQL = f"""
CREATE UNLOGGED TABLE bench_floor AS
WITH {_CTES}, {_classify(detail=False)}
SELECT * FROM breaches WHERE severity IS NOT NULL
"""

# Scratch tables shaped like the real ones (columns, defaults, identity, check constraints and every index,
# the partial unique index of one open case per indicator and category included; not the foreign keys), logged
# as the real ones are: the upsert floor writes there, so that it starts from no cases as the full check did.
SCRATCH_SQL = [
    "DROP TABLE IF EXISTS bench_signal, bench_flag",
    "CREATE TABLE bench_flag (LIKE escalations_flag INCLUDING ALL)",
    "CREATE TABLE bench_signal (LIKE escalations_signal INCLUDING ALL)",
]
_OPEN = "'detected', 'in_review', 'monitoring', 'escalated', 'agency_managed', 'project'"

# The floor that also writes what the check writes for the breaches (not the audit events, the colours or the
# notifications): one case per (indicator, category) — severity its worst signal's, ``beyond`` its furthest
# signal's measure in yellow thresholds (capped at 10), due when a detected case of that severity is due
# (``due_red``, ``due_yellow``), linked to the latest closed case of that indicator and category through a
# LEFT JOIN on them pre-aggregated (a correlated look-up would walk the rows just inserted) — upserted on the
# partial unique index as the check does (``escalations/services/detection.py``: ``_upsert_cases``), then one
# signal per breach upserted on (case, rule).
UPSERT_FLOOR_SQL = f"""
WITH {_CTES}, {_classify(detail=True)},
b AS MATERIALIZED (
    SELECT * FROM breaches WHERE severity IS NOT NULL
), closed AS (
    SELECT f.indicator_id, f.category, MAX(f.id) AS id FROM bench_flag f
    WHERE f.status IN ('dismissed', 'resolved') GROUP BY f.indicator_id, f.category
), cases AS (
    INSERT INTO bench_flag (origin, category, summary, severity, severity_pinned, status, detected_at, due_at,
                            dismiss_reason, resolution, updated_at, indicator_id, previous_flag_id, beyond,
                            reraise_reason)
    SELECT 'automated', k.category, '', k.severity, false, 'detected', %(now)s,
           CASE k.severity WHEN 'red' THEN %(due_red)s::timestamptz ELSE %(due_yellow)s::timestamptz END,
           '', '', %(now)s, k.indicator_id, c.id, k.beyond, ''
    FROM (SELECT b.indicator_id, b.category,
                 CASE WHEN bool_or(b.severity = 'red') THEN 'red' ELSE 'yellow' END AS severity,
                 MAX(CASE WHEN b.measure IS NULL THEN NULL
                          WHEN b.yellow IS NULL OR b.yellow = 0 THEN CASE WHEN b.measure > 0 THEN 10 ELSE 0 END
                          ELSE round(LEAST(10, b.measure / b.yellow), 2) END) AS beyond
          FROM b GROUP BY b.indicator_id, b.category) k
    LEFT JOIN closed c ON c.indicator_id = k.indicator_id AND c.category = k.category
    ON CONFLICT (indicator_id, category) WHERE status IN ({_OPEN}) DO UPDATE SET
        beyond = excluded.beyond, updated_at = excluded.updated_at,
        severity = CASE WHEN bench_flag.severity_pinned THEN bench_flag.severity ELSE excluded.severity END
    RETURNING id, indicator_id, category
)
INSERT INTO bench_signal (period, value, baseline, change, measure, unit, yellow, red, severity, preliminary,
                          first_seen_at, last_seen_at, cleared_at, flag_id, rule_id)
SELECT b.period, b.value, b.baseline, b.change, b.measure, b.unit, b.yellow, b.red, b.severity, false,
       %(now)s, %(now)s, NULL, c.id, b.rule_id
FROM b JOIN cases c ON c.indicator_id = b.indicator_id AND c.category = b.category
ON CONFLICT (flag_id, rule_id) DO UPDATE SET
    period = excluded.period, value = excluded.value, baseline = excluded.baseline, change = excluded.change,
    measure = excluded.measure, unit = excluded.unit, yellow = excluded.yellow, red = excluded.red,
    severity = excluded.severity, preliminary = excluded.preliminary, last_seen_at = excluded.last_seen_at,
    cleared_at = excluded.cleared_at
"""


def upsert_floor_params(as_of: dt.date) -> dict:
    """``floor_params`` and what the upsert writes besides: the moment, when a detected case is due."""
    from django.utils import timezone

    from escalations import deadlines
    from escalations.lifecycle import FlagStatus

    now = timezone.now()
    due = {
        f"due_{s}": deadlines.due_at_for(status=FlagStatus.DETECTED, severity=s, since=now) for s in ("red", "yellow")
    }
    return floor_params(as_of) | {"now": now} | due
