"""What a rule change or an indicator's new tolerance would do, before anybody saves it: the real engine, run on
the current data inside a transaction that is always rolled back."""

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import CheckRun, CheckRunStatus, Indicator, ThresholdRule
from . import evaluate, rules_applying
from .types import Breach


@dataclass(frozen=True)
class RulePreview:
    as_of: dt.date
    now: Counter[str]  # severity → indicators the rule flags as it stands
    proposed: Counter[str]  # severity → indicators it would flag with the changes

    @property
    def now_total(self) -> int:
        return sum(self.now.values())

    @property
    def proposed_total(self) -> int:
        return sum(self.proposed.values())


class _Rollback(Exception):
    pass


def _as_of() -> dt.date:
    """The date a preview evaluates at: the last successful check's (what the pages show), else today."""
    last = CheckRun.objects.filter(status=CheckRunStatus.SUCCEEDED).order_by("-finished_at").first()
    return last.as_of if last else timezone.localdate()


def _flagged(rule_id: int, as_of: dt.date) -> Counter[str]:
    top = Indicator.objects.aggregate(top=Max("id"))["top"] or 0
    evaluation = evaluate(lo_id=0, hi_id=top + 1, as_of=as_of)
    return Counter(breach.severity for breach in evaluation.breaches if breach.rule_id == rule_id)


def rule_preview(*, rule: ThresholdRule, changes: Mapping[str, object]) -> RulePreview:
    """How many indicators ``rule`` flags now and would flag with ``changes`` (a dict of rule fields), on
    the data of the last successful check (its as-of date; today when there was none). Writes nothing: the
    change is applied inside a transaction that is rolled back, so the engine sees exactly what saving would
    give, scopes and competing rules included."""
    as_of = _as_of()
    try:
        with transaction.atomic():
            now = _flagged(rule.pk, as_of) if rule.active else Counter()
            ThresholdRule.objects.filter(pk=rule.pk).update(**changes)
            proposed = _flagged(rule.pk, as_of)
            raise _Rollback
    except _Rollback:
        pass
    return RulePreview(as_of=as_of, now=now, proposed=proposed)


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule that applies to the indicator says, as it stands and with the proposed tolerance
    (``None``: no breach)."""

    rule: ThresholdRule
    now: Breach | None
    proposed: Breach | None

    @property
    def changed(self) -> bool:
        return _worst([self.now]) != _worst([self.proposed])


@dataclass(frozen=True)
class TolerancePreview:
    as_of: dt.date
    tolerance: Decimal | None
    outcomes: list[RuleOutcome]

    @property
    def now(self) -> str:
        """The worst severity as it stands ("" when no rule breaches)."""
        return _worst(outcome.now for outcome in self.outcomes)

    @property
    def proposed(self) -> str:
        return _worst(outcome.proposed for outcome in self.outcomes)


def _worst(breaches: Iterable[Breach | None]) -> str:
    severities = {breach.severity for breach in breaches if breach is not None}
    return "red" if "red" in severities else "yellow" if "yellow" in severities else ""


def _breaches(indicator_id: int, as_of: dt.date) -> dict[int, Breach]:
    evaluation = evaluate(lo_id=indicator_id, hi_id=indicator_id + 1, as_of=as_of)
    return {breach.rule_id: breach for breach in evaluation.breaches}


def tolerance_preview(*, indicator: Indicator, tolerance: Decimal | None) -> TolerancePreview:
    """What each rule that applies to ``indicator`` flags on the current data (as of the last successful
    check) as it stands and with ``tolerance`` (``None``: none, the rules' own yellow thresholds). Writes
    nothing: the tolerance is set inside a transaction that is rolled back, so the engine sees exactly what
    saving it would give."""
    as_of = _as_of()
    try:
        with transaction.atomic():
            now = _breaches(indicator.pk, as_of)
            Indicator.objects.filter(pk=indicator.pk).update(tolerance=tolerance)
            proposed = _breaches(indicator.pk, as_of)
            raise _Rollback
    except _Rollback:
        pass
    rules = ThresholdRule.objects.in_bulk(rules_applying(indicator.pk))
    outcomes = [
        RuleOutcome(rule=rule, now=now.get(pk), proposed=proposed.get(pk))
        for pk, rule in sorted(rules.items(), key=lambda item: item[1].name)
    ]
    return TolerancePreview(as_of=as_of, tolerance=tolerance, outcomes=outcomes)
