"""Writes to threshold rules (the rules page; the API may share it). Kept out of ``indicators/services`` only
so that it merges cleanly beside that module; it follows the same conventions (keyword-only, one
transaction, refuses before writing)."""

from decimal import Decimal

from django.db import transaction

from .models import ThresholdRule
from .roles import Role, roles_of

RULE_EDITABLE_FIELDS = ("name", "yellow", "red", "params", "critical_factor", "active")


def rule_update(*, rule: ThresholdRule, actor, **changes) -> tuple[ThresholdRule, list[str]]:
    """Change a threshold rule's name, thresholds, parameters, critical factor or active flag (ops leads and
    admins). Returns ``(rule, changed_fields)``; a call that changes nothing writes nothing. The rule's
    ``updated_at`` moves, which tells the next incremental check to re-evaluate what the rule covers.
    Raises ``PermissionError`` (role) or ``ValueError`` (input) without writing. Safe to repeat."""
    unknown = set(changes) - set(RULE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"cannot change: {', '.join(sorted(unknown))}")
    if not (actor.is_superuser or roles_of(actor) & {Role.OPS_LEAD, Role.ADMIN}):
        raise PermissionError("Only ops leads and administrators tune rules.")
    for name in ("yellow", "red", "critical_factor"):
        if name in changes and (changes[name] is None or Decimal(changes[name]) < 0):
            raise ValueError(f"{name} must be zero or more")
    if "params" in changes and not isinstance(changes["params"], dict):
        raise ValueError("params must be an object")
    with transaction.atomic():
        rule = ThresholdRule.objects.select_for_update().get(pk=rule.pk)
        if Decimal(changes.get("red", rule.red)) < Decimal(changes.get("yellow", rule.yellow)):
            raise ValueError("the red threshold must not be below the yellow one")
        changed = [name for name, value in changes.items() if getattr(rule, name) != value]
        if changed:
            for name in changed:
                setattr(rule, name, changes[name])
            rule.save()
    return rule, changed
