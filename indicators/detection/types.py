"""What detection hands to the escalations app: plain records, no models."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Breach:
    """One rule breached by one indicator at one period. ``measure`` is how far beyond, in ``unit`` (percent
    for the change rules, σ for control limits, periods for sustained declines and saw-tooth resets, days for
    reporting gaps); ``yellow`` and ``red`` are the thresholds that applied, in the same unit."""

    indicator_id: int
    rule_id: int
    kind: str
    period: dt.date
    value: Decimal | None
    baseline: Decimal | None
    change: Decimal | None
    measure: Decimal | None
    unit: str
    yellow: Decimal | None
    red: Decimal | None
    severity: str
    preliminary: bool = False


@dataclass
class Evaluation:
    """The outcome for one id range: the breaches, every (indicator, rule) pair that could be evaluated (a
    pair evaluated without a breach is how an open case learns that a signal cleared), the kind of each rule,
    and the indicators whose performance rules were all evaluated (their colour is the check's answer)."""

    breaches: list[Breach] = field(default_factory=list)
    evaluated: dict[int, set[int]] = field(default_factory=dict)  # indicator id: the ids of its rules evaluated
    kinds: dict[int, str] = field(default_factory=dict)
    checked: set[int] = field(default_factory=set)
    indicators: int = 0

    def pairs(self) -> set[tuple[int, int]]:
        """Every (indicator, rule) pair evaluated."""
        return {(indicator_id, rule_id) for indicator_id, rule_ids in self.evaluated.items() for rule_id in rule_ids}
