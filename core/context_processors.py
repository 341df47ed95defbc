"""``may`` in every template: the signed-in user's capabilities (``{% if may.run_projects %}``), answered by
``core.permissions`` like the views and the API, so a page offers only what the service would accept."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import abilities


def permissions(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"may": {}}
    # Lazy: pages that never ask cost nothing.
    return {"may": SimpleLazyObject(lambda: abilities(user))}
