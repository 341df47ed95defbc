"""Who may take which lifecycle action on which flag: the transition table (``lifecycle.TRANSITIONS``) read
against the user's roles and scope (``core.permissions.Scope``).

The object check (``acting_roles``) and the queryset filter (``selectors.flags_visible_to``) both read the
scope from ``core.permissions``, so a list never shows what a detail page would refuse.
"""

from typing import TYPE_CHECKING

from core.permissions import roles_of, scope_of

from .lifecycle import PROJECT_TRANSITIONS, TRANSITIONS, Action, ProjectAction
from .models import Flag, Project

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def acting_roles(user: "User | AnonymousUser", flag: Flag, action: Action) -> frozenset[str]:
    """The roles in which ``user`` may take ``action`` on ``flag`` in its current status, scope included.
    Empty when the status does not allow it or the user may not."""
    allowed = TRANSITIONS[action].allowed.get(flag.status, frozenset())
    scope = scope_of(user)
    return frozenset(role for role in allowed if scope.covers(role, flag.indicator.agency))


def available_actions(user: "User | AnonymousUser", flag: Flag) -> list[str]:
    """The actions ``user`` may take on ``flag`` now, in the order of the transition table."""
    return [action.value for action in TRANSITIONS if acting_roles(user, flag, action)]


def may_ever(user: "User | AnonymousUser", action: Action) -> bool:
    """Whether one of the user's roles may take ``action`` in some status (the role question only; status
    and scope are the service's, under the row lock)."""
    return bool(roles_of(user) & TRANSITIONS[action].roles)


def actions_ever_allowed(user: "User | AnonymousUser") -> list[Action]:
    """The actions one of the user's roles may take in some status, in the order of the table."""
    return [action for action in TRANSITIONS if may_ever(user, action)]


def project_actions_available(user: "User | AnonymousUser", project: Project) -> list[ProjectAction]:
    """The actions of the project table ``user`` may take on ``project`` now (projects are not scoped: whoever
    runs projects runs them all)."""
    roles = roles_of(user)
    return [action for action, row in PROJECT_TRANSITIONS.items() if roles & row.allowed.get(project.status, set())]
