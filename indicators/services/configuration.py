"""Writes that configure what Percolate measures and what counts as a problem: reference data (portfolios,
agencies), threshold rules, and an indicator's tolerance and public-impact weight.

Refusals use Django's own exceptions (``PermissionDenied`` for a role, ``ValidationError`` with a field
dict for input) because this app cannot import the escalations app's domain errors; the API maps both."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ..detection.rules import RULE_PARAMS
from ..models import Agency, Indicator, Portfolio, RuleScope, ThresholdRule
from ..roles import Role, roles_of


def _require_role(actor, *roles: str) -> None:
    if not (roles_of(actor) & set(roles) or (Role.ADMIN in roles and actor.is_superuser)):
        names = " or ".join(Role(role).label.lower() for role in roles)
        raise PermissionDenied(f"Only a user who is {names} may do this.")


def _apply(obj, changes: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(obj, name, value)


def portfolio_save(*, actor, portfolio: Portfolio | None = None, **changes) -> Portfolio:
    """Create (``portfolio=None``) or change a portfolio: ``code``, ``name``. Admins only."""
    _require_role(actor, Role.ADMIN)
    portfolio = portfolio or Portfolio()
    _apply(portfolio, changes, ("code", "name"))
    portfolio.full_clean()
    portfolio.save()
    return portfolio


def agency_save(*, actor, agency: Agency | None = None, **changes) -> Agency:
    """Create (``agency=None``) or change an agency: ``code``, ``name``, ``budget_number``, ``portfolio``.
    Admins only."""
    _require_role(actor, Role.ADMIN)
    agency = agency or Agency()
    _apply(agency, changes, ("code", "name", "budget_number", "portfolio"))
    agency.full_clean()
    agency.save()
    return agency


def _validate_rule(rule: ThresholdRule) -> None:
    problems = {}
    if rule.scope == RuleScope.AGENCY and (rule.agency_id is None or rule.indicator_id is not None):
        problems["agency"] = "A rule scoped to one agency names that agency (and no indicator)."
    elif rule.scope == RuleScope.INDICATOR and (rule.indicator_id is None or rule.agency_id is not None):
        problems["indicator"] = "A rule scoped to one indicator names that indicator (and no agency)."
    elif rule.scope in (RuleScope.ALL, RuleScope.CRITICAL) and (rule.agency_id or rule.indicator_id):
        problems["scope"] = "A rule for all (or all critical) indicators names no agency or indicator."
    if rule.yellow is not None and rule.red is not None:
        if rule.yellow < 0 or rule.red < 0:
            problems["yellow"] = "Thresholds are not negative."
        elif Decimal(rule.red) < Decimal(rule.yellow):
            problems["red"] = "The red threshold is at least the yellow one."
    if rule.critical_factor is not None and rule.critical_factor <= 0:
        problems["critical_factor"] = "Must be greater than 0."
    params = rule.params
    if not isinstance(params, dict):
        problems["params"] = "Must be an object."
    else:
        known = RULE_PARAMS.get(rule.kind, {})
        for name, value in params.items():
            spec = known.get(name)
            if spec is None:
                allowed = ", ".join(known) or "none"
                problems["params"] = f"Unknown parameter {name!r} for a {rule.kind} rule (allowed: {allowed})."
            elif isinstance(value, bool) or not isinstance(value, int | float if spec.decimal else int):
                problems["params"] = f"{name} must be a {'number' if spec.decimal else 'whole number'}."
            elif not spec.minimum <= value <= spec.maximum:
                problems["params"] = f"{name} must be from {spec.minimum} to {spec.maximum}."
    if rule.replaces_broader and rule.scope == RuleScope.ALL:
        problems["replaces_broader"] = (
            "Only a rule scoped to critical indicators, an agency or an indicator replaces broader ones."
        )
    if problems:
        raise ValidationError(problems)


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


def rule_save(*, actor, rule: ThresholdRule | None = None, **changes) -> ThresholdRule:
    """Create (``rule=None``) or change a threshold rule. Ops leads and admins. The rule's ``updated_at``
    moves, so the next incremental check re-evaluates what it covers."""
    _require_role(actor, Role.OPS_LEAD, Role.ADMIN)
    with transaction.atomic():
        rule = ThresholdRule() if rule is None else ThresholdRule.objects.select_for_update().get(pk=rule.pk)
        _apply(rule, changes, RULE_FIELDS)
        _validate_rule(rule)
        rule.full_clean()
        rule.save()
    return rule


def indicator_tune(*, indicator: Indicator, actor, **changes) -> Indicator:
    """Set an indicator's ``tolerance`` (with its ``tolerance_rationale``: a written reason is required
    whenever a tolerance is set) and ``public_impact_weight``. The agency's liaisons, ops leads, admins."""
    roles = roles_of(actor)
    liaison_here = Role.LIAISON in roles and actor.agencies.filter(pk=indicator.agency_id).exists()
    if not (liaison_here or roles & {Role.OPS_LEAD, Role.ADMIN} or actor.is_superuser):
        raise PermissionDenied("Only the agency's liaisons, ops leads and admins tune an indicator.")
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        tolerance_before = indicator.tolerance
        _apply(indicator, changes, ("tolerance", "tolerance_rationale", "public_impact_weight"))
        indicator.tolerance_rationale = (indicator.tolerance_rationale or "").strip()
        if indicator.tolerance is not None and not indicator.tolerance_rationale:
            raise ValidationError({"tolerance_rationale": "Say why this indicator gets its own tolerance."})
        if indicator.tolerance is not None and indicator.tolerance < 0:
            raise ValidationError({"tolerance": "Must not be negative."})
        if not 1 <= indicator.public_impact_weight <= 5:
            raise ValidationError({"public_impact_weight": "Must be from 1 to 5."})
        fields = ["tolerance", "tolerance_rationale", "public_impact_weight"]
        if indicator.tolerance != tolerance_before:  # the rules read it: the next incremental check re-evaluates
            indicator.data_changed_at = timezone.now()
            fields.append("data_changed_at")
        indicator.save(update_fields=fields)
    return indicator
