"""Writes that configure what Percolate measures and what counts as a problem: reference data (portfolios,
agencies), threshold rules, and an indicator's tolerance and public-impact weight.

Refusals are the domain errors of ``core.errors``: ``ActionForbidden`` for a role, ``InvalidInput`` with a
field dict for input (the model's own validation included)."""

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.errors import InvalidInput
from core.permissions import Capability, require

from ..detection.rules import RULE_PARAMS
from ..models import Agency, Indicator, Portfolio, RuleScope, ThresholdRule

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _full_clean(obj: models.Model) -> None:
    """The model's own validation, reported as ``InvalidInput``."""
    try:
        obj.full_clean()
    except ValidationError as error:
        raise InvalidInput({name: " ".join(problems) for name, problems in error.message_dict.items()}) from None


def _apply(obj: models.Model, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    for name, value in changes.items():
        setattr(obj, name, value)


def portfolio_save(*, actor: "User", portfolio: Portfolio | None = None, **changes: Any) -> Portfolio:
    """Create (``portfolio=None``) or change a portfolio: ``code``, ``name``. Admins only."""
    require(actor, Capability.MANAGE_REFERENCE_DATA)
    portfolio = portfolio or Portfolio()
    _apply(portfolio, changes, ("code", "name"))
    _full_clean(portfolio)
    portfolio.save()
    return portfolio


def agency_save(*, actor: "User", agency: Agency | None = None, **changes: Any) -> Agency:
    """Create (``agency=None``) or change an agency: ``code``, ``name``, ``budget_number``, ``portfolio``.
    Admins only."""
    require(actor, Capability.MANAGE_REFERENCE_DATA)
    agency = agency or Agency()
    _apply(agency, changes, ("code", "name", "budget_number", "portfolio"))
    _full_clean(agency)
    agency.save()
    return agency


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


def _validate_rule(rule: ThresholdRule) -> None:
    problems = _scope_problems(rule) | _threshold_problems(rule)
    if not isinstance(rule.params, dict):
        problems["params"] = "Must be an object."
    else:
        found = [_param_problem(rule.kind, name, value) for name, value in rule.params.items()]
        if any(found):
            problems["params"] = [problem for problem in found if problem][-1]
    if problems:
        raise InvalidInput(problems)


RULE_FIELDS = (
    "name",
    "kind",
    "yellow",
    "red",
    "params",
    "critical_factor",
    "scope",
    "agency",
    "indicator",
    "replaces_broader",
    "preliminary",
    "active",
)


def rule_save(*, actor: "User", rule: ThresholdRule | None = None, **changes: Any) -> ThresholdRule:
    """Create (``rule=None``) or change a threshold rule. Ops leads and admins. The rule's ``updated_at``
    moves, so the next incremental check re-evaluates what it covers."""
    require(actor, Capability.CONFIGURE)
    with transaction.atomic():
        rule = ThresholdRule() if rule is None else ThresholdRule.objects.select_for_update().get(pk=rule.pk)
        _apply(rule, changes, RULE_FIELDS)
        _validate_rule(rule)
        _full_clean(rule)
        rule.save()
    return rule


def indicator_tune(*, indicator: Indicator, actor: "User", **changes: Any) -> Indicator:
    """Set an indicator's ``tolerance`` (with its ``tolerance_rationale``: a written reason is required
    whenever a tolerance is set) and ``public_impact_weight``. The agency's liaisons, ops leads, admins."""
    require(actor, Capability.TUNE_INDICATORS, agency=indicator.agency)
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        tolerance_before = indicator.tolerance
        _apply(indicator, changes, ("tolerance", "tolerance_rationale", "public_impact_weight"))
        indicator.tolerance_rationale = (indicator.tolerance_rationale or "").strip()
        if indicator.tolerance is not None and not indicator.tolerance_rationale:
            raise InvalidInput({"tolerance_rationale": "Say why this indicator gets its own tolerance."})
        if indicator.tolerance is not None and indicator.tolerance < 0:
            raise InvalidInput({"tolerance": "Must not be negative."})
        if not 1 <= indicator.public_impact_weight <= 5:
            raise InvalidInput({"public_impact_weight": "Must be from 1 to 5."})
        fields = ["tolerance", "tolerance_rationale", "public_impact_weight"]
        if indicator.tolerance != tolerance_before:  # the rules read it: the next incremental check re-evaluates
            indicator.data_changed_at = timezone.now()
            fields.append("data_changed_at")
        indicator.save(update_fields=fields)
    return indicator
