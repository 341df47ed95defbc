"""What every page's header needs: the signed-in user's roles, the navigation they may use, what waits for
them and how many notifications they have not read."""

from django.utils.functional import SimpleLazyObject

from indicators.roles import Role, roles_of

from . import selectors

OPS_ROLES = frozenset({Role.OPS_LEAD, Role.ADMIN, Role.AUDITOR})


def _header(user) -> dict:
    roles = roles_of(user)
    if user.is_superuser:
        roles = roles | {Role.ADMIN}
    return {
        "role_labels": [Role(role).label for role in Role.values if role in roles],
        "show_inbox": bool(roles & {Role.DEPUTY_MAYOR, Role.OPS_LEAD, Role.AUDITOR, Role.ADMIN}),
        "show_ops": bool(roles & OPS_ROLES),
        "waiting": selectors.work_waiting(user),
        "unread": selectors.notifications_unread_count(user),
        "briefings": list(user.portfolios.values_list("code", flat=True)) if Role.DEPUTY_MAYOR in roles else [],
    }


def percolate(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that do not render the header (CSV exports) cost no query for it.
    return {"header": SimpleLazyObject(lambda: _header(user))}
