"""The indicator search: the header's box on every page answers as one types (``search_suggestions``, a short
list fetched by htmx) and, without JavaScript or on Enter, submits to the full results page (``search``). Both
read ``selectors.indicators_found``, whose matching is the dashboard's and the API's ``q``."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from indicators.selectors import SEARCH_MAX_CHARS

from .. import selectors
from .common import paginate

PAGE_SIZE = 50
SUGGESTIONS = 10


def _text(request) -> str:
    return request.GET.get("q", "")[:SEARCH_MAX_CHARS]


@login_required
def search(request):
    text = _text(request)
    page = paginate(request, selectors.indicators_found(text), PAGE_SIZE) if text.strip() else None
    return render(request, "escalations/search.html", {"q": text, "page": page})


@login_required
def search_suggestions(request):
    text = _text(request)
    found = list(selectors.indicators_found(text)[: SUGGESTIONS + 1]) if text.strip() else []
    return render(
        request,
        "escalations/partials/_search_suggestions.html",
        {"q": text, "found": found[:SUGGESTIONS], "more": len(found) > SUGGESTIONS},
    )
