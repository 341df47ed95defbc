"""The audit log: every event the user may see, filterable by actor, verb, agency and date range, and the
same selection as CSV."""

import csv
import datetime as dt
import json

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from .. import selectors
from ..audit import Verb
from ..forms import AuditFilterForm
from .common import paginate

PAGE_SIZE = 100
CSV_COLUMNS = [
    "id", "occurred_at", "actor", "verb", "verb_label", "flag", "project", "indicator", "agency",
    "from_status", "to_status", "data", "hash",
]  # fmt: skip


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _events(request, form: AuditFilterForm):
    events = selectors.events_visible_to(request.user).select_related("indicator__agency")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor__username__iexact=data["actor"].strip())
        if data["verb"]:
            events = events.filter(verb=data["verb"])
        if data["agency"]:
            code = data["agency"]
            events = events.filter(
                Q(indicator__agency__code=code)
                | Q(flag__indicator__agency__code=code)
                | Q(project__agencies__code=code)
            ).distinct()
        if data["since"]:
            events = events.filter(occurred_at__gte=_start_of(data["since"]))
        if data["until"]:
            events = events.filter(occurred_at__lt=_start_of(data["until"] + dt.timedelta(days=1)))
    return events


class _Echo:
    def write(self, value):
        return value


def _csv(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.order_by("id").iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.pk,
                event.occurred_at.isoformat(),
                event.actor_name,
                event.verb,
                Verb(event.verb).label if event.verb in Verb.values else event.verb,
                event.flag_id or "",
                event.project_id or "",
                event.indicator.external_id if event.indicator_id else "",
                event.indicator.agency.code if event.indicator_id else "",
                event.from_status,
                event.to_status,
                json.dumps(event.data, ensure_ascii=False, sort_keys=True),
                event.hash,
            ]
        )


@login_required
def audit_log(request):
    form = AuditFilterForm(request.GET or None, verbs=Verb.choices, agencies=selectors.agencies_all())
    events = _events(request, form)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(_csv(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="percolate-audit-log.csv"'
        return response
    page = paginate(request, events.order_by("-id"), PAGE_SIZE)
    export = request.GET.copy()
    export.pop("page", None)
    export["format"] = "csv"
    return render(
        request, "escalations/audit_log.html", {"form": form, "page": page, "export_query": export.urlencode()}
    )
