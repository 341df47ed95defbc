"""The RAG dashboard: portfolio → agency → indicator, filterable, in a fixed number of queries."""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from indicators.models import Rag

from .. import selectors
from ..forms import DashboardFilterForm
from ..lifecycle import Severity

NOT_CHECKED = ""


@dataclass
class Group:
    """A portfolio or an agency with its indicators' RAG counts."""

    name: str
    code: str = ""
    counts: dict = field(default_factory=lambda: {Rag.RED: 0, Rag.YELLOW: 0, Rag.GREEN: 0, NOT_CHECKED: 0})
    flags: dict = field(default_factory=lambda: {Severity.RED: 0, Severity.YELLOW: 0})
    children: list = field(default_factory=list)

    def add(self, rag: str) -> None:
        self.counts[rag] += 1

    @property
    def worst(self) -> str:
        for rag in (Rag.RED, Rag.YELLOW, Rag.GREEN):
            if self.counts[rag]:
                return rag
        return NOT_CHECKED

    @property
    def unchecked(self) -> int:
        return self.counts[NOT_CHECKED]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _group(indicators, series, flag_counts) -> list[Group]:
    """Nest the (already ordered) indicators under their portfolio and agency."""
    portfolios: dict = {}
    agencies: dict = {}
    for indicator in indicators:
        agency = indicator.agency
        portfolio = agency.portfolio
        key = portfolio.pk if portfolio else None
        if key not in portfolios:
            portfolios[key] = Group(
                name=portfolio.name if portfolio else "No portfolio", code=portfolio.code if portfolio else ""
            )
        if agency.pk not in agencies:
            agencies[agency.pk] = Group(name=agency.name, code=agency.code)
            agencies[agency.pk].flags.update(flag_counts.get(agency.pk, {}))
            portfolios[key].children.append(agencies[agency.pk])
            for severity, n in agencies[agency.pk].flags.items():
                portfolios[key].flags[severity] += n
        indicator.series = series.get(indicator.pk, [])
        agencies[agency.pk].children.append(indicator)
        agencies[agency.pk].add(indicator.rag)
        portfolios[key].add(indicator.rag)
    # Agencies without a portfolio (UNASSIGNED, new ones from an import) come last.
    return sorted(portfolios.values(), key=lambda group: group.code == "")


@login_required
def dashboard(request):
    portfolios = list(selectors.portfolios_all())
    agencies = list(selectors.agencies_all())
    form = DashboardFilterForm(request.GET or None, portfolios=portfolios, agencies=agencies)
    indicators = selectors.indicators_with_status().filter(active=True)
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        if data["portfolio"]:
            indicators = indicators.filter(agency__portfolio__code=data["portfolio"])
        if data["agency"]:
            indicators = indicators.filter(agency__code=data["agency"])
        if data["critical"]:
            indicators = indicators.filter(critical=True)
        if data["red"]:
            indicators = indicators.filter(rag=Rag.RED)
        filtered = any(data.values())
    indicators = indicators.order_by("agency__portfolio__name", "agency__name", "name")
    series = selectors.series_by_indicator(indicators.values("pk") if filtered else None)
    groups = _group(indicators, series, selectors.open_flag_counts_by_agency())
    totals = Group(name="All")
    for portfolio in groups:
        for rag, n in portfolio.counts.items():
            totals.counts[rag] += n
        for severity, n in portfolio.flags.items():
            totals.flags[severity] += n
    return render(
        request,
        "escalations/dashboard.html",
        {"form": form, "groups": groups, "totals": totals, "filtered": filtered},
    )
