"""The detection engine: which indicators breach which rules, computed set-based in the database.

``evaluate`` answers for one range of indicator ids (a shard of a run) with plain records (``Breach``,
``Evaluation``); turning them into flags is the escalations app's job."""

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from django.db import connection

from ..models import RuleScope
from .classify import NOT_EVALUATED, Outcome, classify, stale_breach
from .dialect import Dialect
from .gated import MAX_RULES, gated_head_sql, gated_metrics_sql, stale_candidate_sql
from .query import (
    STEP_SQL,
    Row,
    SqlParam,
    _latest,
    as_date,
    complete,
    dense_metrics_sql,
    fetch,
    gap_free,
    latest_sql,
    metric_columns,
    metrics_sql,
    pairs_sql,
    steps_sql,
    stream,
)
from .rules import AS_OF_KINDS, Rule, WindowPlan, active_rules, window_plan
from .types import Breach, Evaluation

__all__ = ["Breach", "Evaluation", "evaluate", "indicators_per_rule", "rules_applying", "sparse_ids"]

# Up to this many ids go into an IN list (far below SQLite's 32,766 parameters).
_ID_LIST_LIMIT = 10_000


def evaluate(
    *,
    lo_id: int,
    hi_id: int,
    as_of: dt.date,
    changes_since: dt.datetime | None = None,
    dated_only: bool = False,
    watch: Collection[int] = (),
    reference: bool = False,
) -> Evaluation:
    """Evaluate the active rules for the active indicators with ``lo_id <= id < hi_id`` at their latest period
    on or before ``as_of``. With ``changes_since``, only the pairs whose data or rule changed since then; with
    ``dated_only`` as well, only the other pairs of the rules that depend on the date of the check (stale),
    whose answer moves with the date alone: then ``evaluated`` holds the pairs that breach and those of the
    indicators in ``watch`` (the caller's open cases, which learn from it that a signal cleared), not every
    pair of every indicator, and ``indicators`` counts them all. Reads only; safe to repeat.

    ``reference``: every pair classified in Python from the general window query, on every database — slower, the
    reference the databases' gates (``gated``) are tested against."""
    rules = active_rules()
    evaluation = Evaluation(kinds={rule.id: rule.kind for rule in rules.values()})
    if not rules:
        return evaluation
    if dated_only:
        return _evaluate_dated(rules, lo_id, hi_id, as_of, changes_since, watch)
    wanted = _wanted(rules, lo_id, hi_id, changes_since)
    if not wanted:
        return evaluation
    # Every rule of these indicators is evaluated here: their colour is this check's answer.
    evaluation.checked = set(wanted)
    shard = _Shard(
        lo_id=lo_id, hi_id=hi_id, as_of=as_of, wanted=wanted, evaluation=evaluation, rules=rules, reference=reference
    )
    windowed = sorted(
        indicator_id for indicator_id, its in wanted.items() if any(rule.kind not in AS_OF_KINDS for rule in its)
    )
    if windowed:
        _evaluate_windows(shard, window_plan(rules), windowed)
    _evaluate_latest(shard, set(wanted) - shard.seen)
    evaluation.indicators = len(evaluation.evaluated)
    return evaluation


def _wanted(rules: dict[int, Rule], lo_id: int, hi_id: int, since: dt.datetime | None) -> dict[int, list[Rule]]:
    """The rules that apply to each active indicator of the range (whose data changed since ``since``, when
    given), in rule id order (``pairs_sql``). When every active rule is for all indicators (the usual case),
    the indicators' ids suffice: every rule applies to each, and no (indicator, rule) pair is sent."""
    if all(rule.scope == RuleScope.ALL for rule in rules.values()):
        every = sorted(rules.values(), key=lambda rule: rule.id)
        changed = " AND data_changed_at >= %s" if since is not None else ""
        params: list[SqlParam] = [lo_id, hi_id]
        if since is not None:
            params.append(since)
        sql = f"SELECT id FROM indicators_indicator WHERE active AND id >= %s AND id < %s{changed} ORDER BY id"
        return {indicator_id: every for (indicator_id,) in fetch(sql, params)}
    wanted: dict[int, list[Rule]] = {}
    for indicator_id, rule_id, _kind in fetch(*pairs_sql(lo_id, hi_id, since=since)):
        wanted.setdefault(indicator_id, []).append(rules[rule_id])
    return wanted


@dataclass
class _Shard:
    """An evaluation under way: its id range and date, the rules wanted per indicator, what it found so far,
    and the indicators a window row came back for (``seen``)."""

    lo_id: int
    hi_id: int
    as_of: dt.date
    wanted: dict[int, list[Rule]]
    evaluation: Evaluation
    rules: dict[int, Rule] = field(default_factory=dict)  # every active rule, by id
    reference: bool = False
    seen: set[int] = field(default_factory=set)


def _evaluate_windows(shard: _Shard, plan: WindowPlan, windowed: list[int]) -> None:
    """The indicators with a rule that reads a trailing window, from one row each of the window query: the
    database's gate first (``gated``: PostgreSQL classifies, SQLite sorts out the pairs that may breach) for every
    window without a missing period, then the general query for the others — and on SQLite for the candidates."""
    ids: list[int] | None = sparse_ids(windowed, shard.lo_id, shard.hi_id)
    if not shard.reference:
        postgres = connection.vendor == "postgresql"
        if len(shard.rules) <= MAX_RULES:
            ids = (_classify_gated if postgres else _classify_gated_sqlite)(shard, plan, ids)
        elif postgres:
            ids = _classify_fast_path(shard, plan, ids)
        if ids == []:  # no window with a missing period
            return
    _classify_general(shard, plan, ids)


def _classify_fast_path(shard: _Shard, plan: WindowPlan, ids: list[int] | None) -> list[int]:
    """PostgreSQL's fast path (``dense_metrics_sql``), right for every window without a missing period:
    classifies those and returns the ids of the others, to be read again by the general query."""
    evaluation, wanted, as_of, seen = shard.evaluation, shard.wanted, shard.as_of, shard.seen
    _tune_window_query()
    columns = metric_columns(plan)
    params: list[SqlParam] = [shard.lo_id, shard.hi_id, *(ids or []), as_of, as_of]
    gapped: list[int] = []
    for raw in stream(dense_metrics_sql(plan, ids=ids), params):
        row = dict(zip([*columns, "n_rows", "first_period"], raw))
        row["period"] = as_date(row["period"])
        if gap_free(row):
            _classify(evaluation, wanted, row, as_of, seen)
        else:
            gapped.append(row["indicator_id"])
    return gapped


class _Masks:
    """The gate's masks read back: bit i is the i-th active rule by id. Per list of wanted rules (most indicators
    share one), its mask and its rules with their bits; per mask of rules evaluated without a breach, their ids."""

    def __init__(self, rules: dict[int, Rule]) -> None:
        self.order = sorted(rules.values(), key=lambda rule: rule.id)
        self.bits = {rule.id: 1 << i for i, rule in enumerate(self.order)}
        self.lists: dict[int, tuple[int, list[tuple[Rule, int]]]] = {}
        self.ids_of: dict[int, tuple[int, ...]] = {}

    def split(
        self, evaluation: Evaluation, indicator_id: int, its: list[Rule], evaluated: int, candidates: int
    ) -> list[Rule]:
        """Record the pairs of ``its`` evaluated without a breach; return the ones that may breach (for
        ``classify``)."""
        known = self.lists.get(id(its))
        if known is None:
            known = self.lists[id(its)] = (
                sum(self.bits[rule.id] for rule in its),
                [(rule, self.bits[rule.id]) for rule in its],
            )
        mask, with_bits = known
        candidates &= mask
        plain = evaluated & mask & ~candidates
        if plain:
            rule_ids = self.ids_of.get(plain)
            if rule_ids is None:
                rule_ids = self.ids_of[plain] = tuple(rule.id for rule, bit in with_bits if plain & bit)
            evaluation.evaluated.setdefault(indicator_id, set()).update(rule_ids)
        return [rule for rule, bit in with_bits if candidates & bit] if candidates else []


def _gated_rules(
    shard: _Shard, gapped: list[int], indicator_id: int, latest: dt.date, first: dt.date, step: int, n_rows: int
) -> list[Rule]:
    """The rules wanted of an indicator whose gate row came back; none when its window misses a period (it joins
    ``gapped``, for the general query)."""
    if not complete(latest, first, step, n_rows):
        gapped.append(indicator_id)
        return []
    shard.seen.add(indicator_id)
    return shard.wanted.get(indicator_id, [])


def _classify_gated(shard: _Shard, plan: WindowPlan, ids: list[int] | None) -> list[int]:
    """PostgreSQL's fast path with the classification in the database (``gated_metrics_sql``): Python classifies
    only the pairs that may breach, and takes the others' "evaluated" from the row's mask. Right for every window
    without a missing period; returns the ids of the others, to be read again by the general query."""
    evaluation, as_of = shard.evaluation, shard.as_of
    _tune_window_query()
    masks = _Masks(shard.rules)
    columns = [*metric_columns(plan), "complete", "evaluated", "candidates"]
    at = {name: i for i, name in enumerate(columns)}
    i_id, i_period, i_complete, i_evaluated, i_candidates = (
        at[c] for c in ("indicator_id", "period", "complete", "evaluated", "candidates")
    )
    params: list[SqlParam] = [shard.lo_id, shard.hi_id, *(ids or []), as_of, as_of, as_of]
    gapped: list[int] = []
    seen, wanted = shard.seen, shard.wanted
    for raw in stream(gated_metrics_sql(plan, masks.order, ids=ids), params):
        indicator_id = raw[i_id]
        if not raw[i_complete]:  # a missing period: the general query
            gapped.append(indicator_id)
            continue
        seen.add(indicator_id)
        its = wanted.get(indicator_id)
        if not its:
            continue
        candidates = masks.split(evaluation, indicator_id, its, raw[i_evaluated], raw[i_candidates])
        if candidates:
            row = dict(zip(columns, raw))
            row["period"] = as_date(raw[i_period])
            for rule in candidates:
                _record(evaluation, rule, indicator_id, classify(rule, row, as_of))
    return gapped


def _classify_gated_sqlite(shard: _Shard, plan: WindowPlan, ids: list[int] | None) -> list[int]:
    """SQLite's fast path: its gate (``gated_head_sql``, floats, lenient) marks the pairs evaluated without a
    breach; the general query reads the numbers of the indicators with a pair that may breach, exactly, and Python
    classifies those pairs. Right for every window without a missing period; returns the ids of the others."""
    evaluation, as_of = shard.evaluation, shard.as_of
    masks = _Masks(shard.rules)
    params: list[SqlParam] = [shard.lo_id, shard.hi_id, *(ids or []), as_of, as_of, as_of]
    gapped: list[int] = []
    pending: dict[int, list[Rule]] = {}
    for indicator_id, period, first, n_rows, step, evaluated, candidates in fetch(
        gated_head_sql(plan, masks.order, ids=ids), params
    ):
        latest = as_date(period)
        its = _gated_rules(shard, gapped, indicator_id, latest, as_date(first), step, n_rows)
        if not its:
            continue
        for rule in masks.split(evaluation, indicator_id, its, evaluated, candidates):
            if rule.kind in AS_OF_KINDS:  # the latest period suffices (no gate in SQL for these here)
                _record(evaluation, rule, indicator_id, stale_breach(rule, indicator_id, step, latest, as_of))
            else:
                pending.setdefault(indicator_id, []).append(rule)
    for row in _general_rows(shard, plan, sorted(pending), gap_free=True):
        indicator_id = row["indicator_id"]
        for rule in pending[indicator_id]:
            _record(evaluation, rule, indicator_id, classify(rule, row, as_of))
    return gapped


def _tune_window_query() -> None:
    if connection.in_atomic_block:
        # The planner overestimates the window query's rows and compiles it with JIT, which costs seconds
        # and saves nothing on a query this shape.
        # The window sorts are small per indicator but add up per shard: keep them in memory.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")


def _classify_general(shard: _Shard, plan: WindowPlan, ids: list[int] | None) -> None:
    """The general window query (``metrics_sql``: periods found by their number), right for every window."""
    for row in _general_rows(shard, plan, ids):
        _classify(shard.evaluation, shard.wanted, row, shard.as_of, shard.seen)


def _general_rows(shard: _Shard, plan: WindowPlan, ids: list[int] | None, *, gap_free: bool = False) -> Iterator[Row]:
    """The general window query's rows for the shard's indicators (only ``ids``, when given, in IN lists of at
    most ``_ID_LIST_LIMIT``; ``gap_free``: their windows are known to miss no period)."""
    chunks: list[list[int] | None] = [None]
    if ids is not None:
        chunks = [ids[i : i + _ID_LIST_LIMIT] for i in range(0, len(ids), _ID_LIST_LIMIT)]
    if not chunks:
        return
    steps = {row[0] for row in fetch(steps_sql(), [shard.lo_id, shard.hi_id])}
    columns = metric_columns(plan)
    for chunk in chunks:
        sql = metrics_sql(plan, dialect=Dialect(connection.vendor), ids=chunk, steps=steps, gap_free=gap_free)
        params: list[SqlParam] = [shard.lo_id, shard.hi_id, *(chunk or []), shard.as_of, shard.as_of]
        for raw in stream(sql, params):
            row = dict(zip(columns, raw))
            row["period"] = as_date(row["period"])
            yield row


def _evaluate_latest(shard: _Shard, rest: set[int]) -> None:
    """Indicators that only the date-dependent rules (stale) look at this time (no window row came back for
    them): their latest period suffices."""
    if not rest:
        return
    evaluation, wanted, as_of = shard.evaluation, shard.wanted, shard.as_of
    ids = sparse_ids(rest, shard.lo_id, shard.hi_id)
    for indicator_id, step, latest in fetch(latest_sql(ids), [as_of, as_of, shard.lo_id, shard.hi_id, *(ids or [])]):
        if indicator_id not in rest or latest is None:
            continue
        for rule in wanted[indicator_id]:
            if rule.kind in AS_OF_KINDS:
                breach = stale_breach(rule, indicator_id, step, as_date(latest), as_of)
                _record(evaluation, rule, indicator_id, breach)


def _classify(evaluation: Evaluation, wanted: dict[int, list[Rule]], row: Row, as_of: dt.date, seen: set[int]) -> None:
    indicator_id = row["indicator_id"]
    seen.add(indicator_id)
    for rule in wanted.get(indicator_id, ()):
        _record(evaluation, rule, indicator_id, classify(rule, row, as_of))


def _evaluate_dated(
    rules: dict[int, Rule], lo_id: int, hi_id: int, as_of: dt.date, since: dt.datetime | None, watch: Collection[int]
) -> Evaluation:
    """The date-dependent rules (stale) alone, for the indicators whose data did not change since ``since``
    (the others are evaluated whole by their own shard): they need nothing but each indicator's latest period,
    read with the pairs."""
    evaluation = Evaluation(kinds={rule.id: rule.kind for rule in rules.values()})
    dated = sorted((rule for rule in rules.values() if rule.kind in AS_OF_KINDS), key=lambda rule: rule.id)
    if dated and all(rule.scope == RuleScope.ALL for rule in rules.values()):
        # Every rule applies to every indicator (``_wanted``): each indicator's latest period, no pairs. Only
        # the rows where a rule may breach (``gated.stale_candidate_sql``) or that the caller watches come
        # back, after one row (indicator null) counting the indicators evaluated. SQLite: every row.
        unchanged = " AND NOT COALESCE(i.data_changed_at >= %s, false)" if since is not None else ""
        postgres = connection.vendor == "postgresql"
        wanted = f"({stale_candidate_sql(dated)}) OR h.indicator_id = ANY(%s)" if postgres else "true"
        date = "%s::date" if postgres else "%s"
        sql = f"""
            WITH h AS (
                SELECT i.id AS indicator_id, {STEP_SQL} AS step, {_latest("i")} AS period, {date} AS as_of
                FROM indicators_indicator i
                WHERE i.active AND i.id >= %s AND i.id < %s{unchanged})
            SELECT NULL, COUNT(*), NULL FROM h WHERE h.period IS NOT NULL
            UNION ALL
            SELECT h.indicator_id, h.step, h.period FROM h WHERE h.period IS NOT NULL AND ({wanted})"""
        params: list[SqlParam] = [as_of, as_of, as_of, lo_id, hi_id]
        if since is not None:
            params.append(since)
        if postgres:
            params.append(sorted(watch))
        watched = set(watch)
        for indicator_id, step, latest in fetch(sql, params):
            if indicator_id is None:
                evaluation.indicators = step
                continue
            outcomes = [(rule, stale_breach(rule, indicator_id, step, as_date(latest), as_of)) for rule in dated]
            # SQLite sends every row: the same pairs are kept on both databases.
            if indicator_id in watched or any(breach is not None for _rule, breach in outcomes):
                for rule, breach in outcomes:
                    _record(evaluation, rule, indicator_id, breach)
        return evaluation
    sql, params = pairs_sql(lo_id, hi_id, since=since, kinds=tuple(AS_OF_KINDS), unchanged=True, latest_on=as_of)
    for indicator_id, rule_id, _kind, step, latest in fetch(sql, params):
        if latest is not None:
            rule = rules[rule_id]
            _record(evaluation, rule, indicator_id, stale_breach(rule, indicator_id, step, as_date(latest), as_of))
    evaluation.indicators = len(evaluation.evaluated)
    return evaluation


def sparse_ids(ids: Collection[int], lo_id: int, hi_id: int) -> list[int] | None:
    """``ids``, sorted, when they are few in the wide range ``lo_id <= id < hi_id`` (the changed indicators of an
    incremental run): reading just them beats reading the range. ``None``: read the range."""
    return sorted(ids) if len(ids) <= _ID_LIST_LIMIT and len(ids) * 2 < hi_id - lo_id else None


def _record(evaluation: Evaluation, rule: Rule, indicator_id: int, outcome: Outcome) -> None:
    if outcome is NOT_EVALUATED:
        return
    evaluation.evaluated.setdefault(indicator_id, set()).add(rule.id)
    if outcome is not None:
        evaluation.breaches.append(outcome)


def rules_applying(indicator_id: int) -> list[int]:
    """The ids of the active rules that apply to one indicator (scopes and replacing rules resolved exactly as
    the check resolves them)."""
    return [rule_id for _indicator, rule_id, _kind in fetch(*pairs_sql(indicator_id, indicator_id + 1))]


def indicators_per_rule() -> dict[int, int]:
    """How many active indicators each active rule applies to, counted in the database."""
    sql, params = pairs_sql(0, 2**62)
    return dict(fetch(f"SELECT rule_id, COUNT(*) FROM ({sql}) pairs GROUP BY rule_id", params))
