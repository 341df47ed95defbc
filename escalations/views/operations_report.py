"""The "what did Operations do" report, fit for a Council hearing: totals per agency and fiscal year first
(cases opened, reviewed, dismissed by reason, escalated, decided, made projects, projects completed, median
days to review and to decision, indicators that recovered), then every case raised for an agency or portfolio
over the period, 50 a page: how it was closed, who acted when, and whether the indicator recovered.
``?format=csv`` downloads every case's row, ``?format=csv&part=totals`` the totals."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import reports
from ..exports import operations_report_csv, operations_totals_csv
from ..forms import ReportForm
from ..wording import people_named
from .common import paginate

REPORT_PAGE_SIZE = 50


@login_required
def operations_report(request):
    form = ReportForm(request.GET or None)
    context: dict = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        flags = reports.flags_raised(
            user=request.user,
            start=data["start"],
            end=data["end"],
            agencies=[data["agency"]] if data["agency"] else None,
            portfolio=data["portfolio"],
        )
        if request.GET.get("format") == "csv":
            if request.GET.get("part") == "totals":
                return operations_totals_csv(reports.operations_totals(flags=flags))
            return operations_report_csv(reports.operations_history(user=request.user, flags=flags))
        page = paginate(request, flags.order_by("detected_at", "pk").values_list("pk", flat=True), REPORT_PAGE_SIZE)
        stories = reports.operations_history(user=request.user, flags=flags.filter(pk__in=list(page)))
        context |= {
            "totals": reports.operations_totals(flags=flags),
            "page": page,
            "stories": stories,
            # The people the page's events name, read once for every case's timeline.
            "names": people_named(event for story in stories for event in story.events),
        }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "escalations/operations_report.html", context, status=status)
