"""The API's permission classes, declared on each viewset (``IsAuthenticated & (ReadOnly | Allows(…))``).

They ask ``core.permissions`` the role question only ("may someone with these roles ever do this?"), the
same question the pages ask before offering a form. Scope is applied by the selectors (an object out of
scope is a 404) and the services re-check role, scope and status, so these classes never decide on an
object's status."""

from functools import cache

from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from core.permissions import GRANTS, Capability, may
from escalations.access import may_ever


class ReadOnly(BasePermission):
    """GET, HEAD and OPTIONS."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS


@cache
def Allows(capability: Capability) -> type[BasePermission]:  # noqa: N802 (used like a class)
    """The permission class of users granted ``capability``."""

    def has_permission(self, request, view) -> bool:
        return may(request.user, capability)

    name = "Allows" + "".join(part.title() for part in capability.value.split("_"))
    return type(name, (BasePermission,), {"has_permission": has_permission, "message": GRANTS[capability].refusal})


def operations_permissions() -> list:
    """The operations lists (rules, check runs, imports): the operations team reads them; who may configure
    Percolate changes them — as on the operations pages."""
    return [IsAuthenticated & Allows(Capability.READ_OPERATIONS) & (ReadOnly | Allows(Capability.CONFIGURE))]


class MayTakeLifecycleAction(BasePermission):
    """The user holds a role that the transition table allows for the view's ``lifecycle_action`` in at
    least one status. Whether it is allowed on this flag, now, is the service's decision."""

    message = "Your role does not allow this action on flags."

    def has_permission(self, request, view) -> bool:
        action = getattr(view, "lifecycle_action", None)
        return action is not None and may_ever(request.user, action)
