"""How a change made outside the escalations app reaches the audit trail without that app being imported.

``indicators`` (rules, tolerances, reference data, roles, imports) must never import ``escalations``, yet
every one of its changes belongs in the same hash-chained trail as a flag's. So its services call
``record_change`` inside their own transaction; that sends the ``changed`` signal, and the escalations app
(which owns ``Event``) receives it and appends the event in the same transaction. The arrow stays one way:
``indicators`` knows this module only, ``escalations`` connects the receiver when it is ready.

``record_change`` refuses to run when nobody listens, so a change can never go unrecorded silently (a
process without the escalations app installed fails loudly instead)."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.dispatch import Signal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Sent with: verb, actor, actor_label, indicator, data (see ``record_change``).
changed = Signal()


def record_change(
    *,
    verb: str,
    actor: "User | None" = None,
    actor_label: str = "",
    indicator: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record one change in the audit trail, inside the caller's transaction (the receiver raises outside
    one). ``data`` holds what changed, by convention ``{"changes": {field: {"old": …, "new": …}}}``. Raises
    ``RuntimeError`` when no receiver is connected, so nothing is ever written without its event."""
    if not changed.has_listeners():
        raise RuntimeError("no audit receiver is connected: the escalations app records changes")
    changed.send(
        sender=record_change, verb=verb, actor=actor, actor_label=actor_label, indicator=indicator, data=data or {}
    )


def shown(value: Any) -> Any:
    """A value as the audit trail shows it: a number as written (``10``, not ``10.0000``)."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old", "new"}}`` of the fields whose value differs between two snapshots."""
    return {
        name: {"old": shown(before.get(name)), "new": shown(after.get(name))}
        for name in after
        if before.get(name) != after.get(name)
    }
