"""Synthetic series for the benchmark, written straight into PostgreSQL, and the "floor": one hand-written SQL
statement computing the default rules' breaches for those (monthly, gap-free) series into a scratch table."""

import datetime as dt

from django.db import connection

from indicators.models import Agency, RuleKind, ThresholdRule

INDICATOR_SQL = """
INSERT INTO indicators_indicator (agency_id, external_id, parent_id, name, description, service, goal, unit,
    measurement_type, frequency, desired_direction, critical, target, target_kind, public_impact_weight, tolerance,
    tolerance_rationale, active, data_changed_at)
SELECT %(agency)s, 'BENCH-' || g, NULL, 'Synthetic indicator ' || g, '', '', '', '', 'number', 'monthly',
       CASE WHEN g %% 10 = 0 THEN 'neutral' WHEN g %% 2 = 0 THEN 'up' ELSE 'down' END,
       g %% 4 = 0,
       CASE WHEN g %% 4 = 1 THEN round((50 + (g::bigint * 7919) %% 1000) * 1.02, 2) END,
       CASE WHEN g %% 4 = 1 THEN 'numeric' ELSE 'none' END,
       1, NULL, '', true, now()
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
        # As the importer records it.
        cursor.execute(
            "UPDATE indicators_indicator"
            " SET reported_through = (%(start)s::date + make_interval(months => %(m)s - 1))::date",
            {"start": start, "m": m},
        )
        # What autovacuum does after a bulk load in production (it is off on the development machine): statistics,
        # and the visibility map that lets "latest period" probes read the index alone.
        cursor.execute("VACUUM ANALYZE indicators_indicator")
        cursor.execute("VACUUM ANALYZE indicators_measurement")


def floor_params(as_of: dt.date) -> dict:
    """The default rules' numbers, as the floor statement needs them."""
    rules = {r.kind: r for r in ThresholdRule.objects.filter(active=True, scope="all")}
    params = {"as_of": as_of}
    for kind, prefix in [
        (RuleKind.YEAR_OVER_YEAR, "yoy"),
        (RuleKind.TARGET, "tgt"),
        (RuleKind.CONTROL_LIMIT, "cl"),
        (RuleKind.SUSTAINED, "sus"),
        (RuleKind.SAWTOOTH, "saw"),
        (RuleKind.STALE, "stale"),
    ]:
        rule = rules[kind]
        params |= {f"{prefix}_y": rule.yellow, f"{prefix}_r": rule.red, f"{prefix}_cf": rule.critical_factor}
    params["cl_min"] = int(rules[RuleKind.CONTROL_LIMIT].params.get("min_points", 8))
    params["saw_drop"] = rules[RuleKind.SAWTOOTH].params.get("drop_pct", 50)
    params["grace"] = int(rules[RuleKind.STALE].params.get("grace_days", 30))
    return params


_WORSE = "CASE l.dir WHEN 'up' THEN -({d}) WHEN 'down' THEN ({d}) ELSE abs({d}) END"


def _change(kind: str, base: str, prefix: str, where: str = "TRUE") -> str:
    worse = _WORSE.format(d=f"l.value - {base}")
    f = f"CASE WHEN l.critical THEN %({prefix}_cf)s ELSE 1 END"
    return f"""
    SELECT indicator_id, '{kind}' AS kind, CASE
        WHEN {base} = 0 THEN 'red'
        WHEN {worse} * 100 >= %({prefix}_r)s * {f} * abs({base}) THEN 'red'
        WHEN {worse} * 100 >= %({prefix}_y)s * {f} * abs({base}) THEN 'yellow' END AS severity
    FROM l WHERE {base} IS NOT NULL AND {where} AND {worse} > 0"""


# Monthly series only (the benchmark's): 36 months of history besides the latest serve every default rule.
FLOOR_SQL = f"""
CREATE UNLOGGED TABLE bench_floor AS
WITH w AS (
    SELECT m.indicator_id, m.period, m.value,
           EXTRACT(YEAR FROM m.period)::integer * 12 + EXTRACT(MONTH FROM m.period)::integer AS k,
           ROW_NUMBER() OVER p AS rn, COUNT(*) OVER (PARTITION BY m.indicator_id) AS cnt,
           LAG(m.value) OVER p AS lag_value,
           FIRST_VALUE(m.value) OVER (p RANGE BETWEEN 12 PRECEDING AND 12 PRECEDING) AS yoy_value
    FROM indicators_measurement m
    WHERE m.period <= %(as_of)s AND m.period >= (date_trunc('month', %(as_of)s::date) - interval '36 months')::date
    WINDOW p AS (PARTITION BY m.indicator_id
                 ORDER BY EXTRACT(YEAR FROM m.period)::integer * 12 + EXTRACT(MONTH FROM m.period)::integer)
), x AS (
    SELECT w.*, w.value - w.yoy_value AS point,
           MAX(CASE WHEN lag_value IS NULL OR NOT value < lag_value THEN rn END) OVER i AS last_not_down,
           MAX(CASE WHEN lag_value IS NULL OR NOT value > lag_value THEN rn END) OVER i AS last_not_up,
           MAX(CASE WHEN rn < cnt AND (lag_value IS NULL OR value < lag_value) THEN rn END) OVER i AS last_drop
    FROM w WINDOW i AS (PARTITION BY indicator_id)
), s AS (
    SELECT x.*, COUNT(point) OVER q AS cn, AVG(point) OVER q AS mean, STDDEV_SAMP(point) OVER q AS sd
    FROM x WINDOW q AS (PARTITION BY indicator_id ORDER BY k RANGE BETWEEN 24 PRECEDING AND 1 PRECEDING)
), l AS (
    SELECT s.*, i.desired_direction AS dir, i.critical, i.target, i.target_kind, i.measurement_type
    FROM s JOIN indicators_indicator i ON i.id = s.indicator_id
    WHERE s.rn = s.cnt AND i.active
), breaches AS (
{_change("year_over_year", "l.yoy_value", "yoy")}
UNION ALL {_change("target", "l.target", "tgt", "l.target_kind = 'numeric'")}
UNION ALL
    SELECT indicator_id, 'control_limit', CASE
        WHEN abs(l.point - l.mean) >= %(cl_r)s * CASE WHEN l.critical THEN %(cl_cf)s ELSE 1 END * l.sd THEN 'red'
        WHEN abs(l.point - l.mean) >= %(cl_y)s * CASE WHEN l.critical THEN %(cl_cf)s ELSE 1 END * l.sd THEN 'yellow' END
    FROM l WHERE l.point IS NOT NULL AND l.cn >= %(cl_min)s AND {_WORSE.format(d="l.point - l.mean")} > 0
UNION ALL
    SELECT indicator_id, 'sustained',
           CASE WHEN streak >= %(sus_r)s THEN 'red' WHEN streak >= %(sus_y)s THEN 'yellow' END
    FROM (SELECT l.indicator_id, CASE l.dir
                     WHEN 'up' THEN l.cnt - l.last_not_down
                     WHEN 'down' THEN l.cnt - l.last_not_up
                     ELSE greatest(l.cnt - l.last_not_down, l.cnt - l.last_not_up) END AS streak
          FROM l) t
    WHERE streak > 0
UNION ALL
    SELECT indicator_id, 'sawtooth', CASE WHEN l.cnt - 1 - l.last_drop >= %(saw_r)s THEN 'red' ELSE 'yellow' END
    FROM l WHERE l.value < l.lag_value AND (l.lag_value - l.value) * 100 >= %(saw_drop)s * abs(l.lag_value)
         AND l.cnt - 1 - l.last_drop >= greatest(%(saw_y)s, 1)
UNION ALL
    SELECT indicator_id, 'impossible_value', 'red' FROM l
    WHERE l.value < 0 AND l.measurement_type IN ('number', 'percentage', 'timespan')
       OR l.value > 100 AND l.measurement_type = 'percentage'
UNION ALL
    SELECT indicator_id, 'stale', CASE WHEN overdue >= %(stale_r)s THEN 'red' ELSE 'yellow' END
    FROM (SELECT indicator_id, %(as_of)s::date - ((l.period + interval '2 months')::date - 1) - %(grace)s AS overdue
          FROM l) t
    WHERE overdue > 0 AND overdue >= %(stale_y)s
)
SELECT * FROM breaches WHERE severity IS NOT NULL
"""
