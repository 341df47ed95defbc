"""Read-only reports that answer the oversight questions: the deputy mayor's briefing, and "when an indicator
moved the wrong way, what did Operations do?" for an indicator, an agency or a portfolio over a period.

Each report runs a fixed number of queries whatever its size (series, notes and events are fetched in one
query each and grouped in Python)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from indicators.models import Agency, Direction, Indicator, Measurement, Portfolio, Rag

from .lifecycle import FlagStatus, Severity
from .models import Escalation, Event, Flag, Note, NoteKind, Project
from .selectors import escalations_awaiting_decision, flags_visible_to, series_by_indicator

# --------------------------------------------------------------------------------------------- dashboard

NOT_CHECKED = ""


@dataclass
class Group:
    """A portfolio or an agency with its indicators' RAG counts (and its open cases' severities); a portfolio's
    ``children`` are its agencies."""

    name: str
    code: str | None = ""
    counts: dict = field(default_factory=lambda: {Rag.RED: 0, Rag.YELLOW: 0, Rag.GREEN: 0, NOT_CHECKED: 0})
    flags: dict = field(default_factory=lambda: {Severity.RED: 0, Severity.YELLOW: 0})
    children: list = field(default_factory=list)

    def add(self, rag: str) -> None:
        self.counts[rag] += 1

    @property
    def worst(self) -> str:
        return next((rag for rag in (Rag.RED, Rag.YELLOW, Rag.GREEN) if self.counts[rag]), NOT_CHECKED)

    @property
    def unchecked(self) -> int:
        return self.counts[NOT_CHECKED]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open_cases(self) -> int:
        return sum(self.flags.values())


def dashboard(indicators: QuerySet[Indicator], flag_counts: dict | None = None) -> tuple[list[Group], Group]:
    """The dashboard's summary — portfolio → agency with the RAG counts of ``indicators`` (and the open cases of
    ``flag_counts``), worst first: most red, then most yellow, then most open cases — and its totals. Counted
    in the database (one query, and one for the agencies), whatever the number of indicators. The page and
    ``GET /api/v1/dashboard/`` both count here."""
    rows = indicators.order_by().values("agency_id", "rag").annotate(n=Count("pk"))
    counted: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counted[row["agency_id"]][row["rag"]] = row["n"]
    flag_counts = flag_counts or {}
    portfolios: dict = {}
    totals = Group(name="All")
    for agency in Agency.objects.select_related("portfolio").filter(pk__in=counted):
        portfolio = agency.portfolio
        key = portfolio.pk if portfolio else None
        if key not in portfolios:
            portfolios[key] = Group(
                name=portfolio.name if portfolio else "No portfolio", code=portfolio.code if portfolio else None
            )
        group = Group(name=agency.name, code=agency.code)
        group.flags.update(flag_counts.get(agency.pk, {}))
        for rag, n in counted[agency.pk].items():
            group.counts[rag] += n
        portfolios[key].children.append(group)
        for parent in (portfolios[key], totals):
            for rag, n in group.counts.items():
                parent.counts[rag] += n
            for severity, n in group.flags.items():
                parent.flags[severity] += n
    for portfolio in portfolios.values():
        portfolio.children.sort(key=_worst_first)
    return sorted(portfolios.values(), key=_worst_first), totals


def _worst_first(group: Group) -> tuple:
    return (-group.counts[Rag.RED], -group.counts[Rag.YELLOW], -group.open_cases, group.name)


# ---------------------------------------------------------------------------------------------- briefing
@dataclass
class BriefingItem:
    escalation: Escalation
    series: list[Measurement]
    intelligence: list[Note]


@dataclass
class Briefing:
    portfolio: Portfolio
    since: dt.datetime
    awaiting: list[BriefingItem]
    decided: list[Escalation]


def briefing_since(day: str) -> dt.datetime:
    """Decisions "since the last briefing": the last seven days unless ``day`` (``YYYY-MM-DD``) says
    otherwise."""
    try:
        start = dt.date.fromisoformat(day)
    except ValueError:
        return timezone.now() - dt.timedelta(days=7)
    return dt.datetime.combine(start, dt.time.min, tzinfo=timezone.get_current_timezone())


def briefing_for(*, user, portfolio: Portfolio, since: dt.datetime) -> Briefing:
    """The deputy mayor's briefing for ``portfolio``: every escalation awaiting a decision (with the series,
    the agency intelligence and the recommendation) and the decisions taken since ``since``."""
    awaiting = list(
        escalations_awaiting_decision(user)
        .filter(flag__indicator__agency__portfolio=portfolio)
        .order_by("escalated_at")
    )
    flag_ids = [e.flag_id for e in awaiting]
    series = series_by_indicator({e.flag.indicator_id for e in awaiting})
    intelligence: dict[int, list[Note]] = defaultdict(list)
    for note in Note.objects.filter(flag_id__in=flag_ids, kind=NoteKind.AGENCY_INTEL).select_related("author"):
        intelligence[note.flag_id].append(note)
    decided = list(
        Escalation.objects.filter(
            flag__indicator__agency__portfolio=portfolio, decided_at__gte=since, flag__in=flags_visible_to(user)
        )
        .select_related("flag__indicator__agency", "decided_by", "escalated_by")
        .order_by("decided_at")
    )
    items = [BriefingItem(e, series.get(e.flag.indicator_id, []), intelligence[e.flag_id]) for e in awaiting]
    return Briefing(portfolio=portfolio, since=since, awaiting=items, decided=decided)


# ------------------------------------------------------------------------------ what Operations did
@dataclass
class FlagOutcome:
    """One flag's story: how it was closed, who acted when, and how the indicator moved afterwards."""

    flag: Flag
    events: list[Event] = field(default_factory=list)
    value_after: Decimal | None = None
    period_after: dt.date | None = None

    @property
    def closed_how(self) -> str:
        flag = self.flag
        if flag.status == FlagStatus.DISMISSED:
            return f"dismissed: {flag.get_dismiss_reason_display()}"
        project = flag.project
        if project is not None:
            outcome = f" — {project.outcome}" if project.outcome else ""
            return f"project “{project.title}” ({project.get_status_display().lower()}){outcome}"
        decisions = [e for e in flag.escalations.all() if e.decision]
        if decisions:
            return f"{flag.get_status_display().lower()} after {decisions[-1].get_decision_display().lower()}"
        return flag.get_status_display().lower()

    @property
    def lead(self):
        """The case's lead signal (``Flag.lead_signal``): the period, value and baseline the story is about."""
        return self.flag.lead_signal

    @property
    def recovered(self) -> bool | None:
        """Did the indicator get back to its baseline afterwards? ``None`` when there is no later value."""
        lead = self.lead
        if self.value_after is None or lead is None or lead.baseline is None:
            return None
        direction = self.flag.indicator.desired_direction
        if direction == Direction.UP:
            return self.value_after >= lead.baseline
        if direction == Direction.DOWN:
            return self.value_after <= lead.baseline
        return self.value_after == lead.baseline


def operations_history(*, user, flags: QuerySet[Flag]) -> list[FlagOutcome]:
    """The story of each flag in ``flags`` (already scoped by the caller), oldest first, with every event of
    the flag and of its project, in four queries."""
    ordered = list(
        flags.select_related("indicator__agency", "project", "assignee")
        .prefetch_related("escalations")
        .order_by("detected_at", "pk")
    )
    outcomes = {flag.pk: FlagOutcome(flag) for flag in ordered}
    project_flags: dict[int, list[int]] = defaultdict(list)
    for flag in ordered:
        if flag.project_id:
            project_flags[flag.project_id].append(flag.pk)
    events = Event.objects.filter(Q(flag__in=outcomes) | Q(project__in=project_flags, flag__isnull=True))
    for event in events.select_related("actor").order_by("occurred_at", "pk"):
        # The query reads an event without a flag only when it belongs to one of ``project_flags``.
        targets = [event.flag_id] if event.flag_id else project_flags[cast(int, event.project_id)]
        for flag_id in targets:
            outcomes[flag_id].events.append(event)
    series = series_by_indicator({flag.indicator_id for flag in ordered})
    for outcome in outcomes.values():
        flagged = outcome.lead.period if outcome.lead else None
        later = [m for m in series.get(outcome.flag.indicator_id, []) if flagged and m.period > flagged]
        if later:
            outcome.period_after, outcome.value_after = later[-1].period, later[-1].value
    return list(outcomes.values())


def indicator_history(*, user, indicator: Indicator) -> list[Event]:
    """Everything Operations did about one indicator, in time order: its flags' events (detections, triage,
    escalations and decisions) and the events of the projects made from them."""
    flags = flags_visible_to(user).filter(indicator=indicator)
    projects = Project.objects.filter(flags__in=flags).values("pk")
    return list(
        Event.objects.filter(Q(flag__in=flags.values("pk")) | Q(project__in=projects, flag__isnull=True))
        .select_related("actor", "flag", "project")
        .order_by("occurred_at", "pk")
    )


def flags_raised(
    *, user, start: dt.date, end: dt.date, agencies=None, portfolio: Portfolio | None = None
) -> QuerySet[Flag]:
    """Flags first detected between ``start`` and ``end`` (inclusive) for some agencies or a portfolio."""
    flags = flags_visible_to(user).filter(detected_at__date__range=(start, end))
    if agencies is not None:
        flags = flags.filter(indicator__agency__in=agencies)
    if portfolio is not None:
        flags = flags.filter(indicator__agency__portfolio=portfolio)
    return flags
