"""What every page's header needs: the signed-in user's roles, what waits for them, which briefings they
read and how many notifications they have not read. What they may do is ``may`` (``core``)."""

from django.utils.functional import SimpleLazyObject

from core.permissions import Role, roles_of

from . import selectors


def _header(user) -> dict:
    roles = roles_of(user)
    return {
        "role_labels": [Role(role).label for role in Role.values if role in roles],
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
