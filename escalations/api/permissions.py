"""Small composable permission classes, declared on each viewset (``IsAuthenticated & (ReadOnly | IsOpsLead)``).

They answer the role question only ("may someone with these roles ever do this?"). Scope is applied by the
selectors (an object out of scope is a 404) and the services re-check role, scope and status under the
row lock, so these classes never decide on a flag's status."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from escalations.lifecycle import TRANSITIONS
from indicators.roles import Role, roles_of


def has_role(user, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles``; a superuser counts as an admin."""
    if not (user and user.is_authenticated):
        return False
    return bool(roles_of(user) & set(roles)) or (Role.ADMIN in roles and user.is_superuser)


class ReadOnly(BasePermission):
    """GET, HEAD and OPTIONS."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


def role_permission(*roles: str) -> type[BasePermission]:
    """A permission class granting access to users holding any of ``roles``."""
    names = " or ".join(Role(role).label.lower() for role in roles)
    return type(
        "Is" + "Or".join(Role(role).name.title().replace("_", "") for role in roles),
        (_HasRole,),
        {"roles": roles, "message": f"Only a user who is {names} may do this."},
    )


IsLiaison = role_permission(Role.LIAISON)
IsOpsLead = role_permission(Role.OPS_LEAD)
IsDeputyMayor = role_permission(Role.DEPUTY_MAYOR)
IsProjectManager = role_permission(Role.PROJECT_MANAGER)
IsAuditor = role_permission(Role.AUDITOR)
IsAdmin = role_permission(Role.ADMIN)


class MayTakeLifecycleAction(BasePermission):
    """The user holds a role that the transition table allows for the view's ``lifecycle_action`` in at
    least one status. Whether it is allowed on this flag, now, is the service's decision."""

    message = "Your role does not allow this action on flags."

    def has_permission(self, request, view) -> bool:
        action = getattr(view, "lifecycle_action", None)
        if action is None:
            return False
        roles = frozenset().union(*TRANSITIONS[action].allowed.values())
        return has_role(request.user, *roles)
