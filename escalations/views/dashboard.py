"""The RAG dashboard: portfolio → agency → indicator, filtered by ``IndicatorFilter`` (the API's
``GET dashboard/`` with the same query counts the same indicators), in a fixed number of queries."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import reports, selectors
from ..filters import IndicatorFilter


@login_required
def dashboard(request):
    filters = IndicatorFilter(request.GET, queryset=selectors.indicators_on_dashboard(), request=request)
    valid = filters.is_valid()
    selected = filters.qs if valid else selectors.indicators_on_dashboard().none()
    filtered = valid and any(value not in (None, "") for value in filters.form.cleaned_data.values())
    indicators = list(selected.order_by("agency__portfolio__name", "agency__name", "name"))
    series = selectors.series_by_indicator(selected.values("pk") if filtered else None)
    for indicator in indicators:
        indicator.series = series.get(indicator.pk, [])
    groups, totals = reports.dashboard(indicators, selectors.open_flag_counts_by_agency())
    return render(
        request,
        "escalations/dashboard.html",
        {"filters": filters, "groups": groups, "totals": totals, "filtered": filtered},
        status=200 if valid else 400,
    )
