"""What detection hands to the escalations app: plain records, no models."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Breach:
    """One rule breached by one indicator at one period."""

    indicator_id: int
    rule_id: int
    kind: str
    period: dt.date
    value: Decimal | None
    baseline: Decimal | None
    change: Decimal | None
    worse_by: Decimal | None
    severity: str

    @classmethod
    def of(cls, rule, row: dict, severity: str, *, baseline=None, change=None, worse_by=None) -> "Breach":
        from .dialect import to_decimal
        from .query import as_date

        return cls(
            indicator_id=row["indicator_id"],
            rule_id=rule.id,
            kind=rule.kind,
            period=as_date(row["period"]),
            value=to_decimal(row["value"]),
            baseline=baseline,
            change=change,
            worse_by=worse_by,
            severity=severity,
        )


@dataclass
class Evaluation:
    """The outcome for one id range: the breaches, and every (indicator, rule) pair that could be evaluated
    (a pair evaluated without a breach is how an open flag learns that its breach cleared)."""

    breaches: list[Breach] = field(default_factory=list)
    evaluated: set[tuple[int, int]] = field(default_factory=set)
    indicators: int = 0
