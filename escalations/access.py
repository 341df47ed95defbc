"""Who may see and act on what. Roles come from Django groups; scope from assignments: a liaison covers the
agencies they are assigned to, a deputy mayor's office the agencies of its portfolio(s). Ops leads and project
managers work across all agencies; auditors and admins read everything and act on no flag.

The object check (``acting_roles``) and the queryset filter (``selectors.flags_visible_to``) both read the
scope from here, so a list never shows what a detail page would refuse.
"""

from dataclasses import dataclass

from indicators.roles import Role, roles_of

from .lifecycle import TRANSITIONS, Action

# Roles that see every flag, whatever their assignments.
SEES_ALL = frozenset({Role.OPS_LEAD, Role.PROJECT_MANAGER, Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str]
    agency_ids: frozenset[int]  # the agencies a liaison covers
    portfolio_ids: frozenset[int]  # the portfolios a deputy mayor's office serves
    is_superuser: bool = False

    @property
    def sees_all(self) -> bool:
        return self.is_superuser or bool(self.roles & SEES_ALL)

    def covers(self, role: str, agency) -> bool:
        """Whether acting in ``role`` reaches flags of ``agency``."""
        if role not in self.roles:
            return False
        if role == Role.LIAISON:
            return agency.id in self.agency_ids
        if role == Role.DEPUTY_MAYOR:
            return agency.portfolio_id in self.portfolio_ids
        return role in (Role.OPS_LEAD, Role.PROJECT_MANAGER)


def scope_of(user) -> Scope:
    """The user's scope, computed once and kept on the user object for the rest of the request."""
    cached = getattr(user, "_percolate_scope", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False):
        return Scope(frozenset(), frozenset(), frozenset())
    scope = Scope(
        roles=roles_of(user),
        agency_ids=frozenset(user.agencies.values_list("id", flat=True)),
        portfolio_ids=frozenset(user.portfolios.values_list("id", flat=True)),
        is_superuser=user.is_superuser,
    )
    user._percolate_scope = scope
    return scope


def acting_roles(user, flag, action: Action) -> frozenset[str]:
    """The roles in which ``user`` may take ``action`` on ``flag`` in its current status, scope included.
    Empty when the status does not allow it or the user may not."""
    allowed = TRANSITIONS[action].allowed.get(flag.status, frozenset())
    scope = scope_of(user)
    return frozenset(role for role in allowed if scope.covers(role, flag.indicator.agency))


def available_actions(user, flag) -> list[str]:
    """The actions ``user`` may take on ``flag`` now, in the order of the transition table."""
    return [action.value for action in TRANSITIONS if acting_roles(user, flag, action)]
