"""Helpers shared by the page views."""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from ..filters import DEFAULT_VIEWS


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` URL of a form if it points back into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def paginate(request: HttpRequest, items, per_page: int) -> Page:
    """A page of ``items``; a page number that is out of range or not a number gives the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def default_view(request: HttpRequest, page: str, filterset_class) -> HttpResponseRedirect | None:
    """When the request names none of the list's filters, a redirect to the page's everyday view written out
    in the address (``filters.DEFAULT_VIEWS``); ``None`` otherwise."""
    if any(name in request.GET for name in filterset_class.base_filters):
        return None
    query = request.GET.copy()
    for name, value in DEFAULT_VIEWS[page].items():
        query[name] = value
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
