"""Which rules apply, with which parameters, and how far back the query must read for them."""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypedDict, cast

from ..models import Frequency, Preliminary, RuleKind, RuleScope, ThresholdRule

# Months per period of each frequency. Four-month periods are the PMMR's (July–October, …).
STEP_MONTHS: dict[str, int] = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.FOUR_MONTH: 4,
    Frequency.ANNUAL: 12,
}

# Kinds whose answer changes with the date of the check even when no data changed: an incremental run
# evaluates them for every indicator.
AS_OF_KINDS = frozenset({RuleKind.STALE})
# Kinds that read only the latest value (or none): no window needed.
LATEST_ONLY_KINDS = frozenset({RuleKind.STALE, RuleKind.TARGET, RuleKind.IMPOSSIBLE_VALUE})


@dataclass(frozen=True)
class Param:
    """One parameter a rule kind reads: a whole number (or, ``decimal``, any number) with a default and the
    smallest and largest allowed values, and what the rules page shows beside it (label, unit, help)."""

    default: int | Decimal
    minimum: int
    maximum: int = 100_000
    help: str = ""
    decimal: bool = False
    label: str = ""
    unit: str = ""


# The parameters each rule kind reads: the one list the engine defaults from, the services validate against
# (anything else is refused, so a typo does not silently leave the engine on its defaults) and the rules page
# makes its form fields from.
RULE_PARAMS: dict[str, dict[str, Param]] = {
    RuleKind.TREND_AVERAGE: {
        "n": Param(3, 1, help="periods averaged before the latest one", label="Periods averaged", unit="periods")
    },
    RuleKind.CONTROL_LIMIT: {
        "window": Param(
            24, 2, help="points in the trailing window the mean and σ come from", label="Window", unit="points"
        ),
        "min_points": Param(
            8, 2, help="fewest points in the window for the rule to apply", label="Fewest points", unit="points"
        ),
    },
    RuleKind.UNUSUAL_CHANGE: {
        "years": Param(
            1, 1, 5, help="compare with the same period this many years earlier", label="Years back", unit="years"
        ),
        "recent_months": Param(
            3,
            1,
            12,
            help="months of the latest values averaged (monthly series: 3 months; yearly ones: the latest)",
            label="Recent months",
            unit="months",
        ),
        "window": Param(
            36,
            2,
            240,
            help="earlier changes over the same span that say how much the series moves",
            label="Window",
            unit="periods",
        ),
        "min_points": Param(
            3, 2, 240, help="fewest earlier changes for the rule to apply", label="Fewest changes", unit="changes"
        ),
        "sigma_yellow": Param(
            Decimal(2),
            0,
            20,
            help="yellow also needs this many σ of those changes",
            decimal=True,
            label="σ for yellow",
            unit="σ",
        ),
        "sigma_red": Param(
            Decimal(3),
            0,
            20,
            help="red also needs this many σ of those changes",
            decimal=True,
            label="σ for red",
            unit="σ",
        ),
    },
    RuleKind.STALE: {
        "grace_days": Param(
            30, 0, help="days after a period is due before it counts as missing", label="Grace", unit="days"
        )
    },
    RuleKind.SAWTOOTH: {
        "drop_pct": Param(
            50, 1, 100, help="the drop, in percent, that ends a rise", label="Drop that ends a rise", unit="%"
        )
    },
}

# The unit of a kind's yellow and red thresholds (the unit its breaches are measured in; see ``classify.py``).
THRESHOLD_UNITS: dict[str, str] = {
    RuleKind.PERIOD_CHANGE: "%",
    RuleKind.YEAR_OVER_YEAR: "%",
    RuleKind.TARGET: "%",
    RuleKind.TREND_AVERAGE: "%",
    RuleKind.UNUSUAL_CHANGE: "%",
    RuleKind.CONTROL_LIMIT: "σ",
    RuleKind.SUSTAINED: "periods",
    RuleKind.SAWTOOTH: "periods",
    RuleKind.STALE: "days",
    RuleKind.IMPOSSIBLE_VALUE: "",
}


class RuleParams(TypedDict, total=False):
    """The parameters of ``RULE_PARAMS`` as ``params_of`` returns them: a kind's own, each of its type."""

    n: int
    window: int
    min_points: int
    years: int
    recent_months: int
    sigma_yellow: Decimal | int  # a decimal parameter below its minimum becomes the (int) minimum
    sigma_red: Decimal | int
    grace_days: int
    drop_pct: int


def params_of(kind: str, params: Mapping[str, Any] | None) -> RuleParams:
    """A rule's parameters (JSON as stored: any value) with the kind's defaults filled in (stored values are
    validated on save; one that does not convert is left at its default)."""
    spec = RULE_PARAMS.get(kind, {})
    values: dict[str, int | Decimal] = {name: p.default for name, p in spec.items()}
    for name, value in (params or {}).items():
        if name in spec:
            with contextlib.suppress(TypeError, ValueError, ArithmeticError):
                number = Decimal(str(value)) if spec[name].decimal else int(value)
                values[name] = max(spec[name].minimum, number)
    # The names are RULE_PARAMS', each an int or (``decimal``) a Decimal: RuleParams says which is which.
    return cast(RuleParams, values)


@dataclass(frozen=True)
class Rule:
    """The parts of a ``ThresholdRule`` the math needs, with parameters defaulted and validated (once: a run
    asks for them for every indicator)."""

    id: int
    kind: str
    yellow: Decimal
    red: Decimal
    critical_factor: Decimal
    preliminary: str = Preliminary.INCLUDE
    scope: str = RuleScope.ALL
    params: RuleParams = field(default_factory=RuleParams, hash=False, compare=False)

    @cached_property
    def n(self) -> int:
        return self.params.get("n", 3)

    @cached_property
    def window(self) -> int:
        return self.params.get("window", 24)

    @cached_property
    def min_points(self) -> int:
        return self.params.get("min_points", 8)

    @cached_property
    def years(self) -> int:
        return self.params.get("years", 1)

    @cached_property
    def recent_months(self) -> int:
        return self.params.get("recent_months", 3)

    @cached_property
    def sigma_yellow(self) -> Decimal:
        return Decimal(self.params.get("sigma_yellow", 2))

    @cached_property
    def sigma_red(self) -> Decimal:
        return Decimal(self.params.get("sigma_red", 3))

    @cached_property
    def unusual_key(self) -> str:
        """The column prefix of this rule's aggregates in the window query (one set per distinct parameters)."""
        return f"u{self.years}_{self.recent_months}_{self.window}"

    @cached_property
    def grace_days(self) -> int:
        return self.params.get("grace_days", 30)

    @cached_property
    def drop_pct(self) -> Decimal:
        return Decimal(self.params.get("drop_pct", 50))


def rule_of(r: ThresholdRule) -> Rule:
    return Rule(
        id=r.id,
        kind=r.kind,
        yellow=r.yellow,
        red=r.red,
        critical_factor=r.critical_factor,
        preliminary=r.preliminary,
        scope=r.scope,
        params=params_of(r.kind, r.params),
    )


def active_rules() -> dict[int, Rule]:
    return {r.id: rule_of(r) for r in ThresholdRule.objects.filter(active=True)}


@dataclass(frozen=True)
class WindowPlan:
    """The distinct window sizes the active rules ask for, and the months to read back per frequency."""

    kinds: frozenset[str]
    trend_ns: tuple[int, ...]
    control_windows: tuple[int, ...]
    unusual: tuple[tuple[int, int, int], ...]  # (years, recent_months, window) of the unusual-change rules
    lookback_months: dict[int, int]  # step in months → months before the latest period

    @property
    def lag_years(self) -> tuple[int, ...]:
        """The "same period N years earlier" values the rules compare with (1: year over year)."""
        years = {1} if self.kinds & {RuleKind.YEAR_OVER_YEAR, RuleKind.CONTROL_LIMIT} else set()
        return tuple(sorted(years | {y for y, _r, _w in self.unusual}))


def window_plan(rules: dict[int, Rule]) -> WindowPlan:
    kinds = {rule.kind for rule in rules.values()}
    trend_ns = tuple(sorted({r.n for r in rules.values() if r.kind == RuleKind.TREND_AVERAGE}))
    windows = tuple(sorted({r.window for r in rules.values() if r.kind == RuleKind.CONTROL_LIMIT}))
    sustained = max([int(r.red) for r in rules.values() if r.kind == RuleKind.SUSTAINED] or [0])
    sawtooth = max([int(r.red) for r in rules.values() if r.kind == RuleKind.SAWTOOTH] or [0])
    unusual = tuple(
        sorted({(r.years, r.recent_months, r.window) for r in rules.values() if r.kind == RuleKind.UNUSUAL_CHANGE})
    )
    lookback: dict[int, int] = {}
    for step in sorted(set(STEP_MONTHS.values())):
        needs = [step]
        if RuleKind.YEAR_OVER_YEAR in kinds:
            needs.append(12)
        needs += [n * step for n in trend_ns]
        # Control points of a sub-annual series are year-over-year changes: a year more of history.
        needs += [w * step + (12 if step < 12 else 0) for w in windows]
        needs += [sustained * step, (sawtooth + 1) * step]
        # An unusual change: the value `years` earlier, and the window of earlier changes that ends where the
        # latest comparison begins (another `years` back).
        needs += [24 * years + window * step for years, _recent, window in unusual]
        lookback[step] = max(needs)
    return WindowPlan(
        kinds=frozenset(kinds),
        trend_ns=trend_ns,
        control_windows=windows,
        unusual=unusual,
        lookback_months=lookback,
    )


# -- validation: what the API, the rules page and the admin's rule form all refuse ------------------------------
def _scope_problems(rule: ThresholdRule) -> dict[str, str]:
    if rule.scope == RuleScope.AGENCY and (rule.agency_id is None or rule.indicator_id is not None):
        return {"agency": "A rule scoped to one agency names that agency (and no indicator)."}
    if rule.scope == RuleScope.INDICATOR and (rule.indicator_id is None or rule.agency_id is not None):
        return {"indicator": "A rule scoped to one indicator names that indicator (and no agency)."}
    if rule.scope in (RuleScope.ALL, RuleScope.CRITICAL) and (rule.agency_id or rule.indicator_id):
        return {"scope": "A rule for all (or all critical) indicators names no agency or indicator."}
    if rule.replaces_broader and rule.scope == RuleScope.ALL:
        return {
            "replaces_broader": "Only a rule scoped to critical indicators, an agency or an indicator replaces "
            "broader ones."
        }
    return {}


def _threshold_problems(rule: ThresholdRule) -> dict[str, str]:
    problems = {}
    if rule.yellow is not None and rule.red is not None:
        if rule.yellow < 0 or rule.red < 0:
            problems["yellow"] = "Thresholds are not negative."
        elif Decimal(rule.red) < Decimal(rule.yellow):
            problems["red"] = "The red threshold is at least the yellow one."
    if rule.critical_factor is not None and rule.critical_factor <= 0:
        problems["critical_factor"] = "Must be greater than 0."
    return problems


def _param_problem(kind: str, name: str, value: object) -> str:
    """What is wrong with one parameter of a rule of ``kind`` ("" when nothing is)."""
    known = RULE_PARAMS.get(kind, {})
    spec = known.get(name)
    if spec is None:
        return f"Unknown parameter {name!r} for a {kind} rule (allowed: {', '.join(known) or 'none'})."
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not (spec.decimal or isinstance(number, int)):
        return f"{name} must be a {'number' if spec.decimal else 'whole number'}."
    if not spec.minimum <= number <= spec.maximum:
        return f"{name} must be from {spec.minimum} to {spec.maximum}."
    return ""


def param_problems(kind: str, params: Mapping[str, object]) -> dict[str, str]:
    """What is wrong with each parameter of a rule of ``kind`` (name → problem; empty when nothing is): the
    rules page shows each at its field, ``rule_problems`` at ``params``."""
    found = {name: _param_problem(kind, name, value) for name, value in params.items()}
    return {name: problem for name, problem in found.items() if problem}


def rule_problems(rule: ThresholdRule) -> dict[str, str]:
    """What is wrong with a rule as it stands (field → problem; empty when nothing is): its scope, thresholds,
    critical factor and parameters. The one validation of a rule, read by ``rule_save`` and the admin's form."""
    problems = _scope_problems(rule) | _threshold_problems(rule)
    if not isinstance(rule.params, dict):
        problems["params"] = "Must be an object."
    else:
        found = list(param_problems(rule.kind, rule.params).values())
        if found:
            problems["params"] = found[-1]
    return problems
