"""What a rule change would do, before anybody saves it: the real engine, run on the current data inside a
transaction that is always rolled back."""

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import CheckRun, CheckRunStatus, Indicator, ThresholdRule
from . import evaluate


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


def _flagged(rule_id: int, as_of: dt.date) -> Counter[str]:
    top = Indicator.objects.aggregate(top=Max("id"))["top"] or 0
    evaluation = evaluate(lo_id=0, hi_id=top + 1, as_of=as_of)
    return Counter(breach.severity for breach in evaluation.breaches if breach.rule_id == rule_id)


def rule_preview(*, rule: ThresholdRule, changes: Mapping[str, object]) -> RulePreview:
    """How many indicators ``rule`` flags now and would flag with ``changes`` (a dict of rule fields), on
    the data of the last successful check (its as-of date; today when there was none). Writes nothing: the
    change is applied inside a transaction that is rolled back, so the engine sees exactly what saving would
    give, scopes and competing rules included."""
    last = CheckRun.objects.filter(status=CheckRunStatus.SUCCEEDED).order_by("-finished_at").first()
    as_of = last.as_of if last else timezone.localdate()
    try:
        with transaction.atomic():
            now = _flagged(rule.pk, as_of) if rule.active else Counter()
            ThresholdRule.objects.filter(pk=rule.pk).update(**changes)
            proposed = _flagged(rule.pk, as_of)
            raise _Rollback
    except _Rollback:
        pass
    return RulePreview(as_of=as_of, now=now, proposed=proposed)
