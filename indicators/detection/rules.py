"""Which rules apply, with which parameters, and how far back the query must read for them."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from ..models import Frequency, RuleKind, ThresholdRule

# Months per period of each frequency. Four-month periods are the PMMR's (July–October, …).
STEP_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.FOUR_MONTH: 4, Frequency.ANNUAL: 12}

# Kinds whose answer changes with the date of the check even when no data changed: an incremental run
# evaluates them for every indicator.
AS_OF_KINDS = frozenset({RuleKind.STALE})
# Kinds that read only the latest value (or none): no window needed.
LATEST_ONLY_KINDS = frozenset({RuleKind.STALE, RuleKind.TARGET, RuleKind.IMPOSSIBLE_VALUE})

DEFAULT_PARAMS = {
    RuleKind.TREND_AVERAGE: {"n": 3},
    RuleKind.CONTROL_LIMIT: {"window": 24, "min_points": 8},
    RuleKind.STALE: {"grace_days": 30},
    RuleKind.SAWTOOTH: {"drop_pct": 50},
}


def _int_param(params: dict, name: str, default: int, minimum: int = 1) -> int:
    try:
        return max(minimum, int(params.get(name, default)))
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class Rule:
    """The parts of a ``ThresholdRule`` the math needs, with parameters defaulted and validated (once: a run
    asks for them for every indicator)."""

    id: int
    kind: str
    yellow: Decimal
    red: Decimal
    critical_factor: Decimal
    params: dict = field(hash=False, compare=False)

    @cached_property
    def n(self) -> int:
        return _int_param(self.params, "n", 3)

    @cached_property
    def window(self) -> int:
        return _int_param(self.params, "window", 24)

    @cached_property
    def min_points(self) -> int:
        # A sample standard deviation needs two points at least.
        return _int_param(self.params, "min_points", 8, minimum=2)

    @cached_property
    def grace_days(self) -> int:
        return _int_param(self.params, "grace_days", 30, minimum=0)

    @cached_property
    def drop_pct(self) -> Decimal:
        try:
            return Decimal(str(self.params.get("drop_pct", 50)))
        except ArithmeticError:
            return Decimal(50)


def active_rules() -> dict[int, Rule]:
    return {
        r.id: Rule(
            id=r.id,
            kind=r.kind,
            yellow=r.yellow,
            red=r.red,
            critical_factor=r.critical_factor,
            params={**DEFAULT_PARAMS.get(r.kind, {}), **(r.params or {})},
        )
        for r in ThresholdRule.objects.filter(active=True)
    }


@dataclass(frozen=True)
class WindowPlan:
    """The distinct window sizes the active rules ask for, and the months to read back per frequency."""

    kinds: frozenset[str]
    trend_ns: tuple[int, ...]
    control_windows: tuple[int, ...]
    lookback_months: dict[int, int]  # step in months → months before the latest period


def window_plan(rules: dict[int, Rule]) -> WindowPlan:
    kinds = {rule.kind for rule in rules.values()}
    trend_ns = tuple(sorted({r.n for r in rules.values() if r.kind == RuleKind.TREND_AVERAGE}))
    windows = tuple(sorted({r.window for r in rules.values() if r.kind == RuleKind.CONTROL_LIMIT}))
    sustained = max([int(r.red) for r in rules.values() if r.kind == RuleKind.SUSTAINED] or [0])
    sawtooth = max([int(r.red) for r in rules.values() if r.kind == RuleKind.SAWTOOTH] or [0])
    lookback = {}
    for step in sorted(set(STEP_MONTHS.values())):
        needs = [step]
        if RuleKind.YEAR_OVER_YEAR in kinds:
            needs.append(12)
        needs += [n * step for n in trend_ns]
        # Control points of a sub-annual series are year-over-year changes: a year more of history.
        needs += [w * step + (12 if step < 12 else 0) for w in windows]
        needs += [sustained * step, (sawtooth + 1) * step]
        lookback[step] = max(needs)
    return WindowPlan(kinds=frozenset(kinds), trend_ns=trend_ns, control_windows=windows, lookback_months=lookback)
