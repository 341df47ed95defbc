"""Helpers shared by the page views."""

from django.core.paginator import Paginator
from django.utils.http import url_has_allowed_host_and_scheme

from indicators.roles import Role, roles_of


def safe_next(request, default: str) -> str:
    """The ``next`` URL of a form if it points back into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def paginate(request, items, per_page: int):
    """A page of ``items``; a page number that is out of range or not a number gives the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def has_role(user, *roles: str) -> bool:
    return user.is_superuser or bool(roles_of(user) & set(roles))


def runs_projects(user) -> bool:
    return has_role(user, Role.PROJECT_MANAGER, Role.OPS_LEAD)
