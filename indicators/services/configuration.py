"""Writes that configure what Percolate measures and what counts as a problem: reference data (portfolios,
agencies), threshold rules, and an indicator's tolerance, public-impact weight and definition.

Refusals are the domain errors of ``core.errors``: ``ActionForbidden`` for a role, ``InvalidInput`` with a
field dict for input (the model's own validation included). Each change writes one audit event with the old
and new values (``{"changes": {field: {"old", "new"}}}``) through ``core.audit.record_change``, in the
change's own transaction; a call that changes nothing writes nothing."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.audit import diff, record_change
from core.errors import Conflict, InvalidInput
from core.permissions import Capability, require

from ..detection.rules import rule_problems
from ..models import Agency, Indicator, Portfolio, ThresholdRule

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _full_clean(obj: models.Model) -> None:
    """The model's own validation, reported as ``InvalidInput``."""
    try:
        obj.full_clean()
    except ValidationError as error:
        raise InvalidInput({name: " ".join(problems) for name, problems in error.message_dict.items()}) from None


def _snapshot(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields as the audit trail shows them: a related object by its code (or external id)."""
    values = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = getattr(value, "code", None) or getattr(value, "external_id", None) or value.pk
        values[name] = value
    return values


def _apply(obj: models.Model, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    for name, value in changes.items():
        setattr(obj, name, value)


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


PORTFOLIO_FIELDS = ("code", "name")
AGENCY_FIELDS = ("code", "name", "budget_number", "portfolio")


def _reference_save(
    obj: models.Model, *, actor: "User", changes: Mapping[str, Any], fields: tuple[str, ...], entity: str
) -> Any:
    """Create (``obj`` unsaved) or change a portfolio or agency under its row lock, writing
    ``<entity>.created`` / ``<entity>.updated`` with the old and new values (nothing when nothing changed)."""
    require(actor, Capability.MANAGE_REFERENCE_DATA)
    model = type(obj)
    with transaction.atomic():
        creating = obj.pk is None
        if not creating:
            obj = model._default_manager.select_for_update().get(pk=obj.pk)
        before = {} if creating else _snapshot(obj, fields)
        _apply(obj, changes, fields)
        _full_clean(obj)
        changed = diff(before, _snapshot(obj, fields))
        if not changed and not creating:
            return obj
        obj.save()
        record_change(
            verb=f"{entity}.created" if creating else f"{entity}.updated",
            actor=actor,
            data={entity: obj.pk, "code": getattr(obj, "code", ""), "changes": changed},
        )
    return obj


def portfolio_save(*, actor: "User", portfolio: Portfolio | None = None, **changes: Any) -> Portfolio:
    """Create (``portfolio=None``, ``portfolio.created``) or change (``portfolio.updated``) a portfolio:
    ``code``, ``name``. Admins only. Safe to repeat: the same values again write nothing."""
    saved: Portfolio = _reference_save(
        portfolio or Portfolio(), actor=actor, changes=changes, fields=PORTFOLIO_FIELDS, entity="portfolio"
    )
    return saved


def agency_save(*, actor: "User", agency: Agency | None = None, **changes: Any) -> Agency:
    """Create (``agency=None``, ``agency.created``) or change (``agency.updated``) an agency: ``code``,
    ``name``, ``budget_number``, ``portfolio``. Admins only. Safe to repeat."""
    saved: Agency = _reference_save(
        agency or Agency(), actor=actor, changes=changes, fields=AGENCY_FIELDS, entity="agency"
    )
    return saved


def _validate_rule(rule: ThresholdRule) -> None:
    problems = rule_problems(rule)
    if problems:
        raise InvalidInput(problems)


def _rule_verb(creating: bool, changed: Mapping[str, Any]) -> str:
    if creating:
        return "rule.created"
    if set(changed) == {"active"}:  # switched on or off, nothing else
        return "rule.activated" if changed["active"]["new"] else "rule.deactivated"
    return "rule.updated"


def rule_save(*, actor: "User", rule: ThresholdRule | None = None, **changes: Any) -> ThresholdRule:
    """Create (``rule=None``) or change a threshold rule. Ops leads and admins. Writes ``rule.created``,
    ``rule.activated`` / ``rule.deactivated`` (only ``active`` changed) or ``rule.updated`` with old and new
    values; nothing when nothing changed. The rule's ``updated_at`` moves, so the next incremental check
    re-evaluates what it covers."""
    require(actor, Capability.CONFIGURE)
    with transaction.atomic():
        creating = rule is None
        rule = ThresholdRule() if rule is None else ThresholdRule.objects.select_for_update().get(pk=rule.pk)
        before = {} if creating else _snapshot(rule, RULE_FIELDS)
        _apply(rule, changes, RULE_FIELDS)
        _validate_rule(rule)
        _full_clean(rule)
        changed = diff(before, _snapshot(rule, RULE_FIELDS))
        if not changed and not creating:
            return rule
        rule.save()
        record_change(
            verb=_rule_verb(creating, changed),
            actor=actor,
            data={"rule": rule.pk, "name": rule.name, "changes": changed},
        )
    return rule


def rule_delete(*, actor: "User", rule: ThresholdRule) -> None:
    """Delete a rule that never raised a signal (``rule.deleted``, with the rule as it was). Ops leads and
    admins. A rule with signals is part of cases' history: ``Conflict`` — switch it off instead."""
    require(actor, Capability.CONFIGURE)
    with transaction.atomic():
        rule = ThresholdRule.objects.select_for_update().get(pk=rule.pk)
        before, pk = _snapshot(rule, RULE_FIELDS), rule.pk
        try:
            with transaction.atomic():
                rule.delete()
        except ProtectedError:
            raise Conflict(f"Rule “{rule.name}” has raised signals on cases; switch it off instead.") from None
        record_change(
            verb="rule.deleted",
            actor=actor,
            data={"rule": pk, "name": before["name"], "changes": diff(before, dict.fromkeys(before))},
        )


TUNE_FIELDS = ("tolerance", "tolerance_rationale", "public_impact_weight")
DEFINITION_FIELDS = ("critical", "target", "target_kind", "desired_direction", "active")


def tune_problems(indicator: Indicator) -> dict[str, str]:
    """What is wrong with an indicator's tolerance and weight as they stand (field → problem): the one
    validation, read by ``indicator_tune`` and the admin's indicator form."""
    problems = {}
    if indicator.tolerance is not None and not (indicator.tolerance_rationale or "").strip():
        problems["tolerance_rationale"] = "Say why this indicator gets its own tolerance."
    if indicator.tolerance is not None and indicator.tolerance < 0:
        problems["tolerance"] = "Must not be negative."
    if not 1 <= (indicator.public_impact_weight or 0) <= 5:
        problems["public_impact_weight"] = "Must be from 1 to 5."
    return problems


def indicator_tune(*, indicator: Indicator, actor: "User", **changes: Any) -> Indicator:
    """Set an indicator's ``tolerance`` (with its ``tolerance_rationale``: a written reason is required
    whenever a tolerance is set) and ``public_impact_weight``. The agency's liaisons, ops leads, admins.
    Writes ``indicator.tuned`` with old and new values; nothing when nothing changed."""
    require(actor, Capability.TUNE_INDICATORS, agency=indicator.agency)
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = _snapshot(indicator, TUNE_FIELDS)
        _apply(indicator, changes, TUNE_FIELDS)
        indicator.tolerance_rationale = (indicator.tolerance_rationale or "").strip()
        problems = tune_problems(indicator)
        if problems:
            raise InvalidInput(problems)
        changed = diff(before, _snapshot(indicator, TUNE_FIELDS))
        if not changed:
            return indicator
        fields = list(TUNE_FIELDS)
        if "tolerance" in changed:  # the rules read it: the next incremental check re-evaluates
            indicator.data_changed_at = timezone.now()
            fields.append("data_changed_at")
        indicator.save(update_fields=fields)
        record_change(verb="indicator.tuned", actor=actor, indicator=indicator, data={"changes": changed})
    return indicator


def indicator_update(*, indicator: Indicator, actor: "User", **changes: Any) -> Indicator:
    """Change what an indicator is held to, outside an import: ``critical``, ``target``, ``target_kind``,
    ``desired_direction``, ``active``. Admins only (the Django admin's indicator form). Writes
    ``indicator.updated`` with old and new values (nothing when nothing changed); the next incremental check
    re-evaluates the indicator."""
    require(actor, Capability.MANAGE_REFERENCE_DATA)
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = _snapshot(indicator, DEFINITION_FIELDS)
        _apply(indicator, changes, DEFINITION_FIELDS)
        _full_clean(indicator)
        changed = diff(before, _snapshot(indicator, DEFINITION_FIELDS))
        if not changed:
            return indicator
        indicator.data_changed_at = timezone.now()
        indicator.save(update_fields=[*DEFINITION_FIELDS, "data_changed_at"])
        record_change(verb="indicator.updated", actor=actor, indicator=indicator, data={"changes": changed})
    return indicator
