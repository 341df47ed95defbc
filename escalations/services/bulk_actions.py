"""One action on many flags: each flag goes through the same service as the single action, and every
outcome is reported. The pages' bulk form and ``POST /api/v1/flags/bulk/`` both call ``flags_bulk_act``."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from core.errors import ActionForbidden, DomainError, InvalidInput, NotFound

from .. import selectors
from ..access import may_ever
from ..lifecycle import TRANSITIONS, Action
from ..models import Flag
from .flags import ACTION_SERVICES
from .inputs import clean_inputs

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BULK_LIMIT = 1000


@dataclass
class BulkOutcome:
    action: Action
    matched: int = 0
    succeeded: list[int] = field(default_factory=list)
    failed: list[tuple[int, DomainError]] = field(default_factory=list)  # (flag id, why), by id


def flags_bulk_act(
    *,
    actor: "User",
    action: Action,
    inputs: Mapping[str, Any],
    ids: Sequence[int] | None = None,
    selection: QuerySet[Flag] | None = None,
) -> BulkOutcome:
    """Take ``action`` with ``inputs`` on the flags named by ``ids`` (those the actor cannot see are
    reported as not found), on every flag of ``selection`` (a filtered list of the actor's; at most
    ``BULK_LIMIT``), or with both on the named flags the selection holds (the others: not found). Refuses
    up front — writing nothing — when no role of the actor ever takes the action or the input is invalid;
    after that each flag succeeds or fails on its own."""
    if not may_ever(actor, action):
        raise ActionForbidden(f"Your role does not allow the action “{action.label.lower()}” on flags.")
    clean_inputs(TRANSITIONS[action].inputs, inputs)
    flags, missing = _targets(actor, ids, selection)
    outcome = BulkOutcome(action=action, matched=len(flags) + len(missing))
    outcome.failed = [(pk, NotFound("Not found.")) for pk in missing]
    values = dict(inputs)
    for flag in flags:
        try:
            ACTION_SERVICES[action](flag=flag, actor=actor, **values)
        except DomainError as error:
            outcome.failed.append((flag.pk, error))
            continue
        outcome.succeeded.append(flag.pk)
        if action == Action.CONVERT and values.get("project") is None:
            # The first flag made the new project; the others join it rather than make one each.
            flag.refresh_from_db(fields=["project"])
            values.update(project=flag.project, title="", owner=None, agencies=(), description="")
    outcome.failed.sort(key=lambda failure: failure[0])
    return outcome


def _targets(
    actor: "User", ids: Sequence[int] | None, selection: QuerySet[Flag] | None
) -> tuple[list[Flag], list[int]]:
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        scope = selection if selection is not None else selectors.flags_visible_to(actor)
        found = scope.in_bulk(wanted)
        return [found[pk] for pk in wanted if pk in found], [pk for pk in wanted if pk not in found]
    if selection is None:
        raise TypeError("flags_bulk_act needs ids or a selection")
    count = selection.count()
    if count > BULK_LIMIT:
        raise InvalidInput({"filter": f"The filter selects {count} flags; a bulk action takes at most {BULK_LIMIT}."})
    return list(selection), []
