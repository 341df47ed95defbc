"""The RAG dashboard. First a summary, portfolio → agency with the counts of red, yellow and green indicators
and of open cases, worst first, each agency leading to its indicators; once a filter narrows the indicators
(an agency, a colour, critical ones, a search), those indicators follow, a page at a time. Filtered by
``IndicatorFilter``: the API's ``GET dashboard/`` with the same query counts the same indicators, and
``GET indicators/`` lists them. A fixed number of queries whatever the size of the data."""

from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import render

from indicators.models import Rag

from .. import reports, selectors
from ..filters import IndicatorFilter
from .common import paginate

PAGE_SIZE = 50
# The filters that narrow the summary to indicators one can read through; a portfolio alone does not (its
# agencies are the summary's rows).
LISTING_FILTERS = ("agency", "critical", "rag", "q")
WORST_FIRST = Case(
    When(rag=Rag.RED, then=Value(0)),
    When(rag=Rag.YELLOW, then=Value(1)),
    When(rag=Rag.GREEN, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@login_required
def dashboard(request):
    filters = IndicatorFilter(request.GET, queryset=selectors.indicators_on_dashboard(), request=request)
    valid = filters.is_valid()
    selected = filters.qs if valid else selectors.indicators_on_dashboard().none()
    chosen = filters.form.cleaned_data if valid else {}
    listing = any(chosen.get(name) not in (None, "") for name in LISTING_FILTERS)
    groups, totals = reports.dashboard(selected, selectors.open_flag_counts_by_agency())
    page = None
    if listing:
        page = paginate(request, selected.order_by("agency__name", WORST_FIRST, "name", "pk"), PAGE_SIZE)
        series = selectors.series_by_indicator([indicator.pk for indicator in page])
        for indicator in page:
            indicator.series = series.get(indicator.pk, [])
    agencies = {agency.code for portfolio in groups for agency in portfolio.children}
    return render(
        request,
        "escalations/dashboard.html",
        {
            "filters": filters,
            "groups": groups,
            "totals": totals,
            "page": page,
            "one_agency": len(agencies) == 1,
        },
        status=200 if valid else 400,
    )
