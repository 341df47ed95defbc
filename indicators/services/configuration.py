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
from ..identity import alias_conflicts, normal_name
from ..models import Agency, AgencyAlias, Indicator, Portfolio, ThresholdRule

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
    ``name``, ``budget_number``, ``portfolio`` and ``aliases`` (the other names files give it: a list that
    replaces the stored one). Admins only. Safe to repeat.

    A renamed agency keeps its old name and code as aliases, so that a file still using them finds it (and
    an import never creates a second agency, or moves an indicator, because of a rename). A name means one
    agency: a code, name or alias that another agency already has (case, spaces and punctuation ignored) is
    refused. One event holds every change, the aliases' included."""
    require(actor, Capability.MANAGE_REFERENCE_DATA)
    aliases = changes.pop("aliases", None)
    with transaction.atomic():
        creating = agency is None
        agency = Agency() if agency is None else Agency.objects.select_for_update().get(pk=agency.pk)
        before = {} if creating else {**_snapshot(agency, AGENCY_FIELDS), "aliases": _alias_names(agency)}
        _apply(agency, changes, AGENCY_FIELDS)
        _full_clean(agency)
        aliases = before.get("aliases", []) if aliases is None else aliases
        if problems := agency_name_problems(agency, aliases):
            raise InvalidInput(problems)
        renamed = [old for field in ("name", "code") if (old := before.get(field)) and old != getattr(agency, field)]
        wanted = _aliases_wanted(agency, renamed, aliases)
        if renamed and (clashes := alias_conflicts(agency, renamed)):  # an old name another agency has taken
            wanted = [(name, key) for name, key in wanted if name not in clashes]
        changed = diff(before, {**_snapshot(agency, AGENCY_FIELDS), "aliases": [name for name, _ in wanted]})
        if not changed and not creating:
            return agency
        agency.save()
        AgencyAlias.objects.filter(agency=agency).exclude(key__in=[key for _, key in wanted]).delete()
        stored = set(AgencyAlias.objects.filter(agency=agency).values_list("key", flat=True))
        AgencyAlias.objects.bulk_create(
            [AgencyAlias(agency=agency, name=name, key=key) for name, key in wanted if key not in stored]
        )
        for name, key in wanted:  # the same alias written differently ("NYC Parks" → "NYC parks")
            AgencyAlias.objects.filter(agency=agency, key=key).exclude(name=name).update(name=name)
        record_change(
            verb="agency.created" if creating else "agency.updated",
            actor=actor,
            data={"agency": agency.pk, "code": agency.code, "changes": changed},
        )
    return agency


def _alias_names(agency: Agency) -> list[str]:
    return sorted(AgencyAlias.objects.filter(agency=agency).values_list("name", flat=True), key=str.casefold)


def agency_aliases(agency: Agency) -> list[str]:
    """The agency's aliases by name (the admin's and the API's list)."""
    return _alias_names(agency) if agency.pk else []


def _aliases_wanted(agency: Agency, old_names: list[str], aliases: list[str]) -> list[tuple[str, str]]:
    """(name, key) of the agency's aliases after the change, sorted by name: those given, plus the old name and
    code (``old_names``) when they changed; the agency's own name or code is not an alias of it."""
    wanted: dict[str, str] = {}
    for name in [*(alias.strip() for alias in aliases), *old_names]:
        if normal_name(name) and name not in (agency.name, agency.code):
            wanted.setdefault(normal_name(name), name)
    return sorted(((name, key) for key, name in wanted.items()), key=lambda pair: pair[0].casefold())


def agency_name_problems(agency: Agency, aliases: Any) -> dict[str, str]:
    """What is wrong with an agency's code, name and aliases as entered (field → problem): an alias that is
    not a name (no letter or digit, too long), or a code, name or alias that already names another agency
    (case, spaces and punctuation ignored: one name means one agency, or imports could not tell them apart).
    The one validation, read by ``agency_save`` and the admin's agency form."""
    problems = {}
    if isinstance(aliases, str) or not isinstance(aliases, list | tuple):
        return {"aliases": "Give a list of names."}
    unusable = [
        alias for alias in aliases
        if not isinstance(alias, str) or not normal_name(alias) or len(alias.strip()) > 200 or "\x00" in alias
    ]  # fmt: skip
    if unusable:
        problems["aliases"] = f"“{unusable[0]}” is not a name (letters or digits, at most 200 characters)."
        return problems
    for field, value in (("code", agency.code), ("name", agency.name)):
        if value and (clash := alias_conflicts(agency, [value])):
            problems[field] = f"“{value}” already names {clash[value]}."
    clashes = alias_conflicts(agency, [alias.strip() for alias in aliases])
    if clashes:
        problems["aliases"] = " ".join(f"“{name}” already names {other}." for name, other in clashes.items())
    return problems


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
DEFINITION_FIELDS = ("critical", "target", "target_kind", "desired_direction", "active", "agency")


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
    ``desired_direction``, ``active``, and the ``agency`` it belongs to (an import never moves an indicator to
    another agency: this is where a person does, e.g. out of an agency an import created from a misspelt
    name). Admins only (the Django admin's indicator form). Writes
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
