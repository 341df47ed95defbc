"""The "what did Operations do" report: every case raised for an agency or portfolio over a period, how it
was closed, who acted when, and whether the indicator recovered; ``?format=csv`` downloads the same rows."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import reports
from ..exports import operations_report_csv
from ..forms import ReportForm


@login_required
def operations_report(request):
    form = ReportForm(request.GET or None)
    stories = []
    if form.is_valid():
        data = form.cleaned_data
        flags = reports.flags_raised(
            user=request.user,
            start=data["start"],
            end=data["end"],
            agencies=[data["agency"]] if data["agency"] else None,
            portfolio=data["portfolio"],
        )
        stories = reports.operations_history(user=request.user, flags=flags)
        if request.GET.get("format") == "csv":
            return operations_report_csv(stories)
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "escalations/operations_report.html", {"form": form, "stories": stories}, status=status)
