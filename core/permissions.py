"""Who may do what: the one vocabulary of roles, scope and capabilities that views, API permissions,
services and templates ask.

- **Roles** are Django groups of the same name (created by a migration). The one superuser rule: a
  superuser holds the administrator role, group or not, and nothing more — like an admin they read
  everything and configure Percolate; they work no flag and run no project unless given that role too.
- **Scope** comes from assignments: a liaison covers the agencies they are assigned to, a deputy mayor's
  office the agencies of its portfolio(s); every other role reaches every agency.
- **Capabilities** name what a role may do outside the flag lifecycle (whose actions are the rows of
  ``escalations.lifecycle.TRANSITIONS``): ``may(user, Capability.RUN_PROJECTS)``.

The services decide with ``require``; views, API permission classes and templates ask ``may`` the same
question, so a page never offers what the service would refuse.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from django.db import models

from .errors import ActionForbidden

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class Role(models.TextChoices):
    LIAISON = "liaison", "Liaison"
    OPS_LEAD = "ops_lead", "Ops lead"
    DEPUTY_MAYOR = "deputy_mayor", "Deputy mayor's office"
    PROJECT_MANAGER = "project_manager", "Project manager"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


# Roles whose reach is not limited to assigned agencies or portfolios.
UNSCOPED = frozenset({Role.OPS_LEAD, Role.PROJECT_MANAGER, Role.AUDITOR, Role.ADMIN})


class Capability(StrEnum):
    READ_OPERATIONS = "read_operations"
    CONFIGURE = "configure"
    MANAGE_REFERENCE_DATA = "manage_reference_data"
    TUNE_INDICATORS = "tune_indicators"
    RAISE_FLAGS = "raise_flags"
    RUN_PROJECTS = "run_projects"
    READ_BRIEFINGS = "read_briefings"
    MERGE_INDICATORS = "merge_indicators"


@dataclass(frozen=True)
class Grant:
    roles: frozenset[str]
    refusal: str  # what a refused user is told


GRANTS: dict[Capability, Grant] = {
    # Rules, check runs, imports and the SLA policy: read them.
    Capability.READ_OPERATIONS: Grant(
        frozenset({Role.OPS_LEAD, Role.ADMIN, Role.AUDITOR}), "This page is for the operations team."
    ),
    # … and change them: edit rules, start a check, import a file, set the SLA policy.
    Capability.CONFIGURE: Grant(
        frozenset({Role.OPS_LEAD, Role.ADMIN}), "Only ops leads and administrators configure Percolate."
    ),
    Capability.MANAGE_REFERENCE_DATA: Grant(
        frozenset({Role.ADMIN}), "Only administrators change portfolios and agencies."
    ),
    # An indicator's tolerance and public-impact weight (a liaison: of their agencies).
    Capability.TUNE_INDICATORS: Grant(
        frozenset({Role.LIAISON, Role.OPS_LEAD, Role.ADMIN}),
        "Only the agency's liaisons, ops leads and administrators tune an indicator.",
    ),
    # A case raised by hand (a liaison: on indicators of their agencies).
    Capability.RAISE_FLAGS: Grant(
        frozenset({Role.LIAISON, Role.OPS_LEAD}), "You may raise cases only on indicators of your agencies."
    ),
    # Two series found to be one indicator joined (``indicator_merge``): the operations team's judgement.
    Capability.MERGE_INDICATORS: Grant(frozenset({Role.OPS_LEAD}), "Only ops leads merge indicators."),
    Capability.RUN_PROJECTS: Grant(
        frozenset({Role.PROJECT_MANAGER, Role.OPS_LEAD}), "Only project managers and ops leads run projects."
    ),
    # The inbox of escalations and the printable briefings (a deputy mayor's office: of its portfolios).
    Capability.READ_BRIEFINGS: Grant(
        frozenset({Role.DEPUTY_MAYOR, Role.OPS_LEAD, Role.AUDITOR, Role.ADMIN}),
        "Only the portfolio's deputy mayor's office, ops leads, auditors and administrators read briefings.",
    ),
}


class HasAgency(Protocol):
    id: Any
    portfolio_id: Any


def _signed_in(user: "User | AnonymousUser") -> TypeGuard["User"]:
    return bool(getattr(user, "is_authenticated", False))


def roles_of(user: "User | AnonymousUser") -> frozenset[str]:
    """The role names of ``user`` (cached on the user object for the length of a request); a superuser
    holds the administrator role."""
    if not _signed_in(user):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_percolate_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(names)
        setattr(user, "_percolate_roles", cached)  # noqa: B010 (the User type has no such attribute: our cache)
    return cached


def has_role(user: "User | AnonymousUser", *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` (role only; scope is ``Scope.covers``)."""
    return bool(roles_of(user) & set(roles))


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str]
    agency_ids: frozenset[int]  # the agencies a liaison covers
    portfolio_ids: frozenset[int]  # the portfolios a deputy mayor's office serves

    @property
    def sees_all(self) -> bool:
        """Whether every flag, project and event is visible, whatever the assignments."""
        return bool(self.roles & UNSCOPED)

    def covers(self, role: str, agency: HasAgency) -> bool:
        """Whether acting in ``role`` reaches ``agency``."""
        if role not in self.roles:
            return False
        if role == Role.LIAISON:
            return agency.id in self.agency_ids
        if role == Role.DEPUTY_MAYOR:
            return agency.portfolio_id in self.portfolio_ids
        return True

    def covers_portfolio(self, role: str, portfolio_id: int) -> bool:
        if role not in self.roles:
            return False
        if role == Role.LIAISON:
            return False
        if role == Role.DEPUTY_MAYOR:
            return portfolio_id in self.portfolio_ids
        return True

    def may(self, capability: Capability, *, agency: HasAgency | None = None, portfolio_id: int | None = None) -> bool:
        """Whether the capability is granted; on ``agency`` (or ``portfolio_id``) when given, else anywhere."""
        roles = GRANTS[capability].roles & self.roles
        if agency is not None:
            return any(self.covers(role, agency) for role in roles)
        if portfolio_id is not None:
            return any(self.covers_portfolio(role, portfolio_id) for role in roles)
        return bool(roles)


def scope_of(user: "User | AnonymousUser") -> Scope:
    """The user's scope, computed once and kept on the user object for the rest of the request."""
    cached: Scope | None = getattr(user, "_percolate_scope", None)
    if cached is not None:
        return cached
    if not _signed_in(user):
        return Scope(frozenset(), frozenset(), frozenset())
    scope = Scope(
        roles=roles_of(user),
        agency_ids=frozenset(user.agencies.values_list("id", flat=True)),
        portfolio_ids=frozenset(user.portfolios.values_list("id", flat=True)),
    )
    setattr(user, "_percolate_scope", scope)  # noqa: B010 (the User type has no such attribute: our cache)
    return scope


def may(
    user: "User | AnonymousUser",
    capability: Capability,
    *,
    agency: HasAgency | None = None,
    portfolio_id: int | None = None,
) -> bool:
    """The question views, API permissions and templates ask (without ``agency`` or ``portfolio_id``: the role
    question alone, which needs no look-up of assignments)."""
    if agency is None and portfolio_id is None:
        return bool(GRANTS[capability].roles & roles_of(user))
    return scope_of(user).may(capability, agency=agency, portfolio_id=portfolio_id)


def require(
    user: "User | AnonymousUser",
    capability: Capability,
    *,
    agency: HasAgency | None = None,
    portfolio_id: int | None = None,
) -> None:
    """The services' check: raises ``ActionForbidden`` with the capability's refusal."""
    if not may(user, capability, agency=agency, portfolio_id=portfolio_id):
        raise ActionForbidden(GRANTS[capability].refusal)


def abilities(user: "User | AnonymousUser") -> dict[str, bool]:
    """Every capability's answer for ``user`` (anywhere), for the templates: ``{% if may.run_projects %}``."""
    return {capability.value: may(user, capability) for capability in Capability}


def holders(role: str) -> models.Q:
    """A filter of users holding ``role`` (superusers hold the administrator role), for user querysets."""
    q = models.Q(groups__name=role)
    return q | models.Q(is_superuser=True) if role == Role.ADMIN else q
