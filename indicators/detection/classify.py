"""The design's math, exact: one function per rule kind turns the query's numbers for one (indicator, rule)
into a breach, "evaluated, no breach" (``None``), or "cannot be evaluated" (``NOT_EVALUATED``).

Everything is ``Decimal`` with comparisons multiplied out (``w ≥ t`` as ``worse·100 ≥ t·|b|``), so nothing is
divided before it is compared: a value equal to an average is not worse, and a threshold of 0 flags every
strictly worse value. A breach's ``measure`` is in the rule kind's own unit: percent for the change rules,
σ for control limits, periods for ``sustained`` and ``sawtooth``, days for ``stale``.

A preliminary latest value (a PMMR 4-month figure, a projected year) is evaluated, evaluated at most yellow,
or not evaluated, as the rule says (``ThresholdRule.preliminary``)."""

import calendar
import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Final, Literal, TypeAlias

from ..models import Direction, MeasurementType, MeasureUnit, Preliminary, RuleKind, TargetKind
from .dialect import DbNumber, decimal_of, to_decimal
from .query import Row
from .rules import Rule
from .types import Breach

RED, YELLOW = "red", "yellow"
HUNDRED = Decimal(100)
SIX = Decimal("0.000001")
# Signal.change and Signal.measure are DECIMAL(20, 6): a change from a near-zero baseline can exceed them.
LIMIT = Decimal("99999999999999")


class _NotEvaluated(enum.Enum):
    """A one-member enum, so that the type checker knows ``outcome is NOT_EVALUATED`` leaves a breach or None."""

    NOT_EVALUATED = enum.auto()


NOT_EVALUATED: Final = _NotEvaluated.NOT_EVALUATED
# What classifying one (indicator, rule) gives: a breach, "evaluated, no breach", or "cannot be evaluated".
Outcome: TypeAlias = Breach | Literal[_NotEvaluated.NOT_EVALUATED] | None


def _stored(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return max(-LIMIT, min(LIMIT, value)).quantize(SIX)


def _worse_amount(difference: Decimal, direction: str) -> Decimal:
    """How much worse a difference (value − baseline, scaled) is, in the indicator's desired direction."""
    if direction == Direction.UP:
        return -difference
    if direction == Direction.DOWN:
        return difference
    return abs(difference)


def change_thresholds(rule: Rule, row: Row) -> tuple[Decimal, Decimal]:
    """(yellow, red) in percent for a change rule: a liaison's tolerance replaces yellow; a critical
    indicator's thresholds are multiplied by the rule's critical factor."""
    factor = rule.critical_factor if row["critical"] else Decimal(1)
    yellow = decimal_of(row["tolerance"]) if row["tolerance"] is not None else rule.yellow * factor
    return yellow, rule.red * factor


def change_limits(baseline: Decimal, yellow: Decimal, red: Decimal, direction: str) -> tuple[Decimal, Decimal] | None:
    """The values at which a change against ``baseline`` turns yellow and red, for thresholds in percent
    (``change_thresholds``): the inverse of ``change_breach``'s test, worse · 100 ≥ threshold · |baseline|, on
    the worse side of an indicator whose desired direction is up or down. ``None`` for a neutral one (worse
    both ways). The charts draw their band from here, so they show exactly what the check flags."""
    if direction not in (Direction.UP, Direction.DOWN):
        return None
    step = abs(baseline) / HUNDRED * (-1 if direction == Direction.UP else 1)
    return baseline + step * yellow, baseline + step * red


def change_breach(rule: Rule, row: Row, raw_numerator: DbNumber | None, count: int = 1) -> Outcome:
    """A change rule with baseline b = numerator / count (count > 0: the values averaged)."""
    value, numerator = to_decimal(row["value"]), to_decimal(raw_numerator)
    if value is None or numerator is None or not count:
        return NOT_EVALUATED
    denominator = Decimal(count)
    yellow, red = change_thresholds(rule, row)
    change: Decimal | None
    measure: Decimal | None
    with localcontext() as ctx:
        ctx.prec = 80
        difference = value * denominator - numerator  # (v − b) · denominator
        worse = _worse_amount(difference, row["desired_direction"])
        baseline = numerator / denominator
        if worse <= 0:
            return None
        if numerator == 0:
            # b = 0: a strictly worse value is worse than every threshold; the relative change is undefined.
            severity, change, measure = RED, None, None
        else:
            scale = abs(numerator)
            if worse * HUNDRED >= red * scale:
                severity = RED
            elif worse * HUNDRED >= yellow * scale:
                severity = YELLOW
            else:
                return None
            change, measure = difference / scale, worse * HUNDRED / scale
    return _percent_breach(rule, row, severity, baseline, change, measure, yellow, red)


def _control(rule: Rule, row: Row) -> Outcome:
    w = rule.window
    point = to_decimal(row["point"])
    if point is None:
        return NOT_EVALUATED
    # The query's frame includes the latest point itself (see query.py): take it out again.
    count: int = row[f"cl{w}_n"] - 1
    if count < rule.min_points:
        return NOT_EVALUATED
    total = decimal_of(row[f"cl{w}_s"]) - point
    squares = decimal_of(row[f"cl{w}_q"]) - point * point
    factor = rule.critical_factor if row["critical"] else Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 80
        n = Decimal(count)
        spread = n * squares - total * total  # n(n−1)·variance
        deviation = n * point - total  # n · (point − mean)
        worse = _worse_amount(deviation, row["desired_direction"])
        if worse <= 0:
            return None

        def beyond(k: Decimal) -> bool:
            # |point − mean| ≥ k·σ, squared and multiplied out: deviation²·(n−1) ≥ k²·n·spread
            return deviation * deviation * (n - 1) >= k * k * n * spread

        if beyond(rule.red * factor):
            severity = RED
        elif beyond(rule.yellow * factor):
            severity = YELLOW
        else:
            return None
        mean = total / n
        sigma = (spread / (n * (n - 1))).sqrt() if spread > 0 else Decimal(0)
        z = abs(deviation / n) / sigma if sigma else None  # a flat history: any move is beyond it
        # The expected value: the trailing mean for annual series; for sub-annual ones, last year's value plus
        # the mean year-over-year change.
        expected = mean if row["step"] == 12 else decimal_of(row["yoy_value"]) + mean
        value = decimal_of(row["value"])
        change = (value - expected) / abs(expected) if expected else None
    return _breach(
        rule,
        row,
        severity,
        baseline=_stored(expected),
        change=_stored(change),
        measure=_stored(z),
        unit=MeasureUnit.SIGMA,
        yellow=rule.yellow * factor,
        red=rule.red * factor,
    )


def _unusual(rule: Rule, row: Row) -> Outcome:
    """Worse than the same period ``years`` earlier by at least the percentage thresholds (as the other change
    rules: critical factor and tolerance apply) **and** by at least ``sigma_…`` standard deviations of the
    series' own changes over the same span in the ``window`` periods before. For a monthly series the change
    is that of its latest ``recent_months`` months together (a bad month is noise, three are a pattern).

    The change is measured from zero, not from the mean of the earlier changes (as the control limits do): a
    series that worsens steadily is not excused for being steady; the σ only says how much it usually moves."""
    direction = row["desired_direction"]
    key = rule.unusual_key
    recent = max(1, rule.recent_months // row["step"])
    if direction == Direction.NEUTRAL:  # no desired direction: nothing is worse
        return NOT_EVALUATED
    if (row[f"{key}_rn"] or 0) < recent or (row[f"{key}_n"] or 0) < rule.min_points:
        return NOT_EVALUATED
    total = decimal_of(row[f"{key}_rs"])
    worse = -total if direction == Direction.UP else total  # the recent changes summed, worse-signed
    if worse <= 0:  # not worse (most indicators on most nights): nothing more to compute
        return None
    base = decimal_of(row[f"{key}_rb"])
    n, s, q = Decimal(row[f"{key}_n"]), decimal_of(row[f"{key}_s"]), decimal_of(row[f"{key}_q"])
    yellow, red = change_thresholds(rule, row)
    with localcontext() as ctx:
        ctx.prec = 80
        scale = abs(base)
        spread = n * q - s * s  # n(n−1)·variance of the earlier changes

        def breaches(percent: Decimal, sigmas: Decimal) -> bool:
            # worse/|base| ≥ percent/100, and the mean recent change ≥ sigmas · σ / √recent, squared and
            # multiplied out (σ² = spread / (n(n−1))): worse² · n(n−1) ≥ sigmas² · recent · spread.
            material = worse * HUNDRED >= percent * scale if scale else True
            return material and worse * worse * n * (n - 1) >= sigmas * sigmas * recent * spread

        if breaches(red, rule.sigma_red):
            severity = RED
        elif breaches(yellow, rule.sigma_yellow):
            severity = YELLOW
        else:
            return None
        measure = worse * HUNDRED / scale if scale else None
        change = total / scale if scale else None
        baseline = base / recent
    return _percent_breach(rule, row, severity, baseline, change, measure, yellow, red)


def _count_breach(rule: Rule, row: Row, count: int, baseline: DbNumber | None) -> Breach | None:
    if count <= 0 or count < rule.yellow:
        return None
    severity = RED if count >= rule.red else YELLOW
    # The query reads as far back as the rules need, not to the start of the series: a count at or past the red
    # threshold is "at least red" (the same whatever else is configured).
    cap = max(rule.red, rule.yellow)
    return _breach(
        rule,
        row,
        severity,
        baseline=to_decimal(baseline),
        measure=Decimal(cap if cap < count else count),  # min(count, cap), spelled out: mypy has no min(int, Decimal)
        unit=MeasureUnit.PERIODS,
        yellow=rule.yellow,
        red=rule.red,
    )


def _sustained(rule: Rule, row: Row) -> Outcome:
    if row["down_streak"] is None:
        return NOT_EVALUATED
    streak = {
        Direction.UP: row["down_streak"],
        Direction.DOWN: row["up_streak"],
    }.get(row["desired_direction"], max(row["down_streak"], row["up_streak"]))
    return _count_breach(rule, row, streak, row["lag_value"])


def _sawtooth(rule: Rule, row: Row) -> Outcome:
    # A year-to-date series resets once a fiscal year: only a sub-annual series can show the saw-tooth.
    if row["step"] == 12:
        return NOT_EVALUATED
    value, previous = decimal_of(row["value"]), to_decimal(row["lag_value"])
    if previous is None or row["rise_run"] is None:
        return NOT_EVALUATED
    dropped = value < previous and (previous - value) * HUNDRED >= rule.drop_pct * abs(previous)
    return _count_breach(rule, row, row["rise_run"], previous) if dropped else None


def _impossible(rule: Rule, row: Row) -> Outcome:
    value = decimal_of(row["value"])
    kind = row["measurement_type"]
    if kind == MeasurementType.PERCENTAGE and value > HUNDRED:
        return _breach(rule, row, RED, baseline=HUNDRED)
    if kind in (MeasurementType.NUMBER, MeasurementType.PERCENTAGE, MeasurementType.TIMESPAN) and value < 0:
        return _breach(rule, row, RED, baseline=Decimal(0))
    return None


def _percent_breach(
    rule: Rule,
    row: Row,
    severity: str,
    baseline: Decimal,
    change: Decimal | None,
    measure: Decimal | None,
    yellow: Decimal,
    red: Decimal,
) -> Breach:
    """A breach of a change rule: its measure in percent, the values stored as the columns keep them."""
    return _breach(
        rule,
        row,
        severity,
        baseline=_stored(baseline),
        change=_stored(change),
        measure=_stored(measure),
        unit=MeasureUnit.PERCENT,
        yellow=yellow,
        red=red,
    )


def _breach(
    rule: Rule,
    row: Row,
    severity: str,
    *,
    baseline: Decimal | None = None,
    change: Decimal | None = None,
    measure: Decimal | None = None,
    unit: str = "",
    yellow: Decimal | None = None,
    red: Decimal | None = None,
) -> Breach:
    preliminary = bool(row.get("preliminary"))
    if preliminary and rule.preliminary == Preliminary.CAP:
        severity = YELLOW
    return Breach(
        indicator_id=row["indicator_id"],
        rule_id=rule.id,
        kind=rule.kind,
        period=row["period"],
        value=to_decimal(row["value"]),
        baseline=baseline,
        change=change,
        measure=measure,
        unit=unit,
        yellow=yellow,
        red=red,
        severity=severity,
        preliminary=preliminary,
    )


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=4096)
def _missing_and_overdue(step: int, latest: dt.date, as_of: dt.date, grace_days: int) -> tuple[dt.date, int]:
    # Cached: a nightly run asks this for every indicator, and most share a frequency and a latest period.
    missing = add_months(latest, step)
    due = add_months(missing, step) - dt.timedelta(days=1)
    return missing, (as_of - due).days - grace_days


def stale_breach(rule: Rule, indicator_id: int, step: int, latest: dt.date, as_of: dt.date) -> Breach | None:
    """The period after the latest one is due when it ends; after the grace days every further day counts."""
    missing, overdue = _missing_and_overdue(step, latest, as_of, rule.grace_days)
    if overdue <= 0 or overdue < rule.yellow:
        return None
    severity = RED if overdue >= rule.red else YELLOW
    return Breach(
        indicator_id=indicator_id,
        rule_id=rule.id,
        kind=rule.kind,
        period=missing,
        value=None,
        baseline=None,
        change=None,
        measure=Decimal(overdue),
        unit=MeasureUnit.DAYS,
        yellow=rule.yellow,
        red=rule.red,
        severity=severity,
    )


# The kinds answered from the rule and the row alone by a function of their own: one look-up instead of a
# comparison with each kind before them (classify runs for every row and rule).
_BY_KIND: dict[str, Callable[[Rule, Row], Outcome]] = {
    RuleKind.CONTROL_LIMIT: _control,
    RuleKind.UNUSUAL_CHANGE: _unusual,
    RuleKind.SUSTAINED: _sustained,
    RuleKind.SAWTOOTH: _sawtooth,
    RuleKind.IMPOSSIBLE_VALUE: _impossible,
}


def classify(rule: Rule, row: Row, as_of: dt.date) -> Outcome:
    """One rule for one row of the window query: a breach, ``None`` or ``NOT_EVALUATED``. The change rules are
    answered here, without another call; the other kinds through ``_BY_KIND``; ``stale`` (which preliminary
    values do not concern) from the latest period and the date."""
    kind = rule.kind
    if row.get("preliminary") and rule.preliminary == Preliminary.SKIP and kind != RuleKind.STALE:
        return NOT_EVALUATED
    if kind == RuleKind.PERIOD_CHANGE:
        return change_breach(rule, row, row["prev_value"])
    if kind == RuleKind.YEAR_OVER_YEAR:
        return change_breach(rule, row, row["yoy_value"])
    if kind == RuleKind.TARGET:
        if row["target_kind"] != TargetKind.NUMERIC:
            return NOT_EVALUATED
        return change_breach(rule, row, row["target"])
    if kind == RuleKind.TREND_AVERAGE:
        # The query's frame includes the latest period itself (see query.py): take it out again.
        count = (row[f"ta{rule.n}_c"] or 0) - 1
        if count <= 0:
            return NOT_EVALUATED
        total = decimal_of(row[f"ta{rule.n}_s"])
        return change_breach(rule, row, total - decimal_of(row["value"]), count)
    by_kind = _BY_KIND.get(kind)
    if by_kind is not None:
        return by_kind(rule, row)
    if kind == RuleKind.STALE:
        return stale_breach(rule, row["indicator_id"], row["step"], row["period"], as_of)
    return NOT_EVALUATED
