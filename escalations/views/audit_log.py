"""The audit log page: every event the user may see, filtered by ``EventFilter`` (the API's ``GET events/``
with the same query gives the same rows), and the same selection as CSV (the API's export)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import selectors
from ..exports import audit_log_csv
from ..filters import EventFilter
from ..models import Event
from .common import default_view, paginate

PAGE_SIZE = 100


@login_required
def audit_log(request):
    bare = default_view(request, "audit_log", EventFilter)
    if bare is not None:
        return bare
    filters = EventFilter(request.GET, queryset=selectors.events_visible_to(request.user), request=request)
    valid = filters.is_valid()
    events = filters.qs if valid else Event.objects.none()
    if valid and request.GET.get("format") == "csv":
        return audit_log_csv(events)
    page = paginate(request, events.select_related("indicator__agency"), PAGE_SIZE)
    export = request.GET.copy()
    export.pop("page", None)
    export["format"] = "csv"
    return render(
        request,
        "escalations/audit_log.html",
        {"filters": filters, "page": page, "export_query": export.urlencode()},
        status=200 if valid else 400,
    )
