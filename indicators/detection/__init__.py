"""The detection engine: which indicators breach which rules, computed set-based in the database.

``evaluate`` answers for one range of indicator ids (a shard of a run) with plain records (``Breach``,
``Evaluation``); turning them into flags is the escalations app's job."""

import datetime as dt

from django.db import connection

from .classify import NOT_EVALUATED, classify, stale_breach
from .dialect import Dialect
from .query import as_date, fetch, latest_sql, metric_columns, metrics_sql, pairs_sql, steps_sql
from .rules import AS_OF_KINDS, Rule, active_rules, window_plan
from .types import Breach, Evaluation

__all__ = ["Breach", "Evaluation", "evaluate"]

# Above this many changed indicators in a shard, reading the whole range is cheaper than a long IN list.
_ID_LIST_LIMIT = 2000


def evaluate(
    *,
    lo_id: int,
    hi_id: int,
    as_of: dt.date,
    changes_since: dt.datetime | None = None,
    date_changed: bool = True,
) -> Evaluation:
    """Evaluate the active rules for the active indicators with ``lo_id <= id < hi_id`` at their latest period
    on or before ``as_of``. With ``changes_since``, only pairs whose data or rule changed since then, plus,
    when ``date_changed`` (the previous run was for another date), the rules that depend on the date for
    every indicator. Reads only; safe to repeat."""
    rules = active_rules()
    evaluation = Evaluation()
    if not rules:
        return evaluation
    incremental = changes_since is not None
    params: list = [lo_id, hi_id] + ([changes_since, changes_since] if incremental else [])
    as_of_kinds = tuple(AS_OF_KINDS) if date_changed else ()
    pairs = fetch(pairs_sql(incremental=incremental, as_of_kinds=as_of_kinds), params)
    if not pairs:
        return evaluation
    wanted: dict[int, list[Rule]] = {}
    for indicator_id, rule_id, _kind in pairs:
        wanted.setdefault(indicator_id, []).append(rules[rule_id])
    windowed = sorted({indicator_id for indicator_id, _rule, kind in pairs if kind not in AS_OF_KINDS})

    plan = window_plan(rules)
    seen: set[int] = set()
    if windowed:
        ids = windowed if incremental and len(windowed) <= _ID_LIST_LIMIT else None
        steps = {row[0] for row in fetch(steps_sql(), [lo_id, hi_id])}
        sql = metrics_sql(plan, dialect=Dialect(connection.vendor), ids=ids, steps=steps)
        columns = metric_columns(plan)
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # The planner overestimates the window query's rows and compiles it with JIT, which costs seconds
            # and saves nothing on a query this shape.
            # The window sorts are small per indicator but add up per shard: keep them in memory.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
        for raw in fetch(sql, [lo_id, hi_id, *(ids or []), as_of]):
            row = dict(zip(columns, raw))
            row["period"] = as_date(row["period"])
            indicator_id = row["indicator_id"]
            seen.add(indicator_id)
            for rule in wanted.get(indicator_id, ()):
                _record(evaluation, rule, indicator_id, classify(rule, row, as_of))

    # Indicators that only the date-dependent rules (stale) look at this time: their latest period suffices.
    rest = set(wanted) - seen
    if rest:
        for indicator_id, step, latest in fetch(latest_sql(), [as_of, lo_id, hi_id]):
            if indicator_id not in rest or latest is None:
                continue
            for rule in wanted[indicator_id]:
                if rule.kind in AS_OF_KINDS:
                    breach = stale_breach(rule, indicator_id, step, as_date(latest), as_of)
                    _record(evaluation, rule, indicator_id, breach)
    evaluation.indicators = len({indicator_id for indicator_id, _rule in evaluation.evaluated})
    return evaluation


def _record(evaluation: Evaluation, rule: Rule, indicator_id: int, outcome) -> None:
    if outcome is NOT_EVALUATED:
        return
    evaluation.evaluated.add((indicator_id, rule.id))
    if outcome is not None:
        evaluation.breaches.append(outcome)
