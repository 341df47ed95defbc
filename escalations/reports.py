"""Read-only reports that answer the oversight questions: the deputy mayor's briefing, and "when an indicator
moved the wrong way, what did Operations do?" for an indicator, an agency or a portfolio over a period.

Each report runs a fixed number of queries whatever its size (series, notes and events are fetched in one
query each and grouped in Python)."""

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.errors import InvalidInput
from indicators.models import Agency, Direction, Indicator, Measurement, Portfolio, Rag

from .audit_trail import Verb
from .lifecycle import DismissReason, FlagStatus, ProjectStatus, Severity
from .models import Decision, Escalation, Event, Flag, Note, NoteKind, Project, Signal
from .selectors import (
    escalations_awaiting_decision,
    flags_visible_to,
    indicators_on_dashboard,
    open_flag_counts_by_agency,
    series_by_indicator,
)

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


# How long an escalation has waited for a decision, in days: under 7, 7 to 30, over 30.
AGE_BANDS = (("under 7 days", 0, 7), ("7–30 days", 7, 31), ("over 30 days", 31, None))


@dataclass
class AgeBand:
    label: str
    count: int


@dataclass
class BriefingSummary:
    """What the briefing opens with: the portfolio's indicators by colour (``dashboard``'s counts, its agencies
    worst first), the escalations still awaiting a decision by how long they have waited, and the decisions
    taken since the first of this month."""

    rag: Group
    waiting: list[AgeBand]
    decisions_this_month: int
    month_start: dt.date


@dataclass
class Briefing:
    portfolio: Portfolio
    since: dt.datetime
    awaiting: list[BriefingItem]
    decided: list[Escalation]
    summary: BriefingSummary


def briefing_since(day: str | None) -> dt.datetime:
    """Decisions "since the last briefing": the last seven days unless ``day`` (``YYYY-MM-DD``) says
    otherwise; anything else than such a day (an empty one too) is refused (``InvalidInput``)."""
    if day is None:
        return timezone.now() - dt.timedelta(days=7)
    try:
        start = dt.date.fromisoformat(day) if len(day) == 10 else None
    except ValueError:
        start = None
    if start is None or not 1 < start.year < 9999:
        raise InvalidInput({"since": "Give a day as YYYY-MM-DD, between the years 2 and 9998."})
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
    summary = briefing_summary(user=user, portfolio=portfolio, awaiting=awaiting)
    return Briefing(portfolio=portfolio, since=since, awaiting=items, decided=decided, summary=summary)


def briefing_summary(*, user, portfolio: Portfolio, awaiting: list[Escalation]) -> BriefingSummary:
    """The briefing's opening summary (``BriefingSummary``). The colours are counted as the dashboard counts
    them (``dashboard``: the active indicators' latest check, whatever was decided about a case); the ages
    and decisions are of the escalations ``user`` may see."""
    groups, _ = dashboard(indicators_on_dashboard().filter(agency__portfolio=portfolio), open_flag_counts_by_agency())
    rag = groups[0] if groups else Group(name=portfolio.name, code=portfolio.code)
    now = timezone.now()
    ages = [(now - e.escalated_at).days for e in awaiting]
    waiting = []
    for label, low, high in AGE_BANDS:
        waiting.append(AgeBand(label, sum(1 for age in ages if age >= low and (high is None or age < high))))
    month_start = timezone.localdate().replace(day=1)
    decided = Escalation.objects.filter(
        flag__indicator__agency__portfolio=portfolio,
        decided_at__gte=dt.datetime.combine(month_start, dt.time(), tzinfo=timezone.get_current_timezone()),
        flag__in=flags_visible_to(user),
    ).count()
    return BriefingSummary(rag=rag, waiting=waiting, decisions_this_month=decided, month_start=month_start)


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
        if self.value_after is None or lead is None:
            return None
        return back_to_baseline(self.flag.indicator.desired_direction, lead.baseline, self.value_after)


def back_to_baseline(direction: str, baseline: Decimal | None, value: Decimal) -> bool | None:
    """Whether ``value`` is back at (or better than) the ``baseline`` a case was measured against, in the
    indicator's desired direction; ``None`` without a baseline."""
    if baseline is None:
        return None
    if direction == Direction.UP:
        return value >= baseline
    if direction == Direction.DOWN:
        return value <= baseline
    return value == baseline


@dataclass
class Recovery:
    """Whether an indicator recovered since a project started: its latest value since the start against its
    case's baseline (or, without one, against its value when the project started). ``recovered`` is ``None``
    when that cannot be told: nothing measured since the start, or nothing to compare with."""

    since: dt.date
    latest: Measurement | None
    reference: Decimal | None
    against_baseline: bool
    recovered: bool | None


def recovery_since(*, indicator: Indicator, measurements: list, since: dt.date, baseline: Decimal | None) -> Recovery:
    """Did ``indicator`` recover since ``since`` (a project's start)? See ``Recovery``; ``measurements`` are
    the indicator's series, oldest first."""
    after = [m for m in measurements if m.period >= since]
    latest = after[-1] if after else None
    reference = baseline
    if reference is None:
        before = [m for m in measurements if m.period < since]
        reference = before[-1].value if before else None
    recovered = None
    if latest is not None and reference is not None:
        recovered = back_to_baseline(indicator.desired_direction, reference, latest.value)
    return Recovery(since, latest, reference, baseline is not None, recovered)


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


# ------------------------------------------------------------------------------------ the hearing totals

# A person took the case up: started its review, or dismissed it straight from "detected".
REVIEW_VERBS = (Verb.FLAG_REVIEWED, Verb.FLAG_DISMISSED)
# The deputy mayor's office decided what happens (a question back is not a decision yet).
FINAL_DECISIONS = (Decision.AGENCY_MANAGED, Decision.PROJECT)


def fiscal_year(moment: dt.datetime) -> int:
    """New York City's fiscal year of a moment (in New York time): FY2024 runs 2023-07-01 to 2024-06-30."""
    day = timezone.localtime(moment).date()
    return day.year + 1 if day.month >= 7 else day.year


def _median_days(days: list[float]) -> float | None:
    return round(statistics.median(days), 1) if days else None


@dataclass
class Totals:
    """What Operations did about one agency's cases opened in one fiscal year (``fiscal_year`` ``None``: the
    line that adds up every agency and year)."""

    agency_code: str
    agency_name: str
    fiscal_year: int | None
    opened: int = 0
    reviewed: int = 0
    dismissed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DismissReason.values, 0))
    escalated: int = 0
    decided: int = 0
    converted: int = 0
    projects_completed: set[int] = field(default_factory=set)
    days_to_review: list[float] = field(default_factory=list)
    days_to_decision: list[float] = field(default_factory=list)
    indicators_recovered: set[int] = field(default_factory=set)

    @property
    def dismissed_total(self) -> int:
        return sum(self.dismissed.values())

    @property
    def dismissed_by_reason(self) -> list[tuple[str, int]]:
        """(reason label, count) of the reasons used, most used first."""
        used = [(str(DismissReason(code).label), n) for code, n in self.dismissed.items() if n]
        return sorted(used, key=lambda pair: -pair[1])

    @property
    def median_days_to_review(self) -> float | None:
        return _median_days(self.days_to_review)

    @property
    def median_days_to_decision(self) -> float | None:
        return _median_days(self.days_to_decision)

    def add(self, case: Mapping[str, Any], reviewed_at, escalation: tuple | None, recovered: bool) -> None:
        """Count one case: ``reviewed_at`` its first review (or ``None``), ``escalation`` its first escalation's
        time and first final decision's time, ``recovered`` whether its indicator got back to its baseline."""
        self.opened += 1
        if reviewed_at is not None:
            self.reviewed += 1
            self.days_to_review.append((reviewed_at - case["detected_at"]).total_seconds() / 86400)
        if case["status"] == FlagStatus.DISMISSED and case["dismiss_reason"] in self.dismissed:
            self.dismissed[case["dismiss_reason"]] += 1
        if escalation is not None:
            self.escalated += 1
            escalated_at, decided_at = escalation
            if decided_at is not None:
                self.decided += 1
                self.days_to_decision.append((decided_at - escalated_at).total_seconds() / 86400)
        if case["project_id"] is not None:
            self.converted += 1
            if case["project__status"] == ProjectStatus.COMPLETED:
                self.projects_completed.add(case["project_id"])
        if recovered:
            self.indicators_recovered.add(case["indicator_id"])


def operations_totals(*, flags: QuerySet[Flag]) -> list[Totals]:
    """The hearing's totals of ``flags`` (already scoped and filtered): one line per agency and fiscal year
    the cases were opened in (latest year first, then by agency), and a last line adding them all up.

    Set-based: five queries whatever the number of cases (the cases, their first reviews, their escalations,
    their signals, and the latest value of their indicators), added up in Python; medians are computed here
    because SQLite has no median."""
    cases = list(
        flags.order_by().values(
            "pk",
            "indicator_id",
            "indicator__desired_direction",
            "indicator__agency__code",
            "indicator__agency__name",
            "detected_at",
            "status",
            "dismiss_reason",
            "project_id",
            "project__status",
        )
    )
    ids = [case["pk"] for case in cases]
    reviewed = dict(
        Event.objects.filter(flag__in=flags.values("pk"), verb__in=REVIEW_VERBS, actor__isnull=False)
        .order_by()
        .values("flag_id")
        .annotate(first=Min("occurred_at"))
        .values_list("flag_id", "first")
    )
    escalations = _escalation_times(flags)
    recovered = _recovered_cases(flags)
    lines: dict[tuple[str, int], Totals] = {}
    everything = Totals(agency_code="", agency_name="All agencies", fiscal_year=None)
    for case in cases:
        year = fiscal_year(case["detected_at"])
        key = (case["indicator__agency__code"], year)
        if key not in lines:
            lines[key] = Totals(case["indicator__agency__code"], case["indicator__agency__name"], year)
        for line in (lines[key], everything):
            line.add(case, reviewed.get(case["pk"]), escalations.get(case["pk"]), case["pk"] in recovered)
    ordered = sorted(lines.values(), key=lambda line: (-(line.fiscal_year or 0), line.agency_code))
    return [*ordered, everything] if ids else []


def _escalation_times(flags: QuerySet[Flag]) -> dict[int, tuple]:
    """Each escalated case's first escalation and its first final decision (``None`` while undecided)."""
    times: dict[int, tuple] = {}
    rows = Escalation.objects.filter(flag__in=flags.values("pk")).order_by("escalated_at")
    for flag_id, escalated_at, decision, decided_at in rows.values_list(
        "flag_id", "escalated_at", "decision", "decided_at"
    ):
        first_escalated, first_decided = times.get(flag_id, (escalated_at, None))
        if decision in FINAL_DECISIONS and decided_at is not None and first_decided is None:
            first_decided = decided_at
        times[flag_id] = (first_escalated, first_decided)
    return times


def _recovered_cases(flags: QuerySet[Flag]) -> set[int]:
    """The cases whose indicator's latest value, reported after the case's lead period, is back at the lead
    signal's baseline (the same judgement as ``FlagOutcome.recovered``)."""
    signals: dict[int, list[Signal]] = defaultdict(list)
    for signal in Signal.objects.filter(flag__in=flags.values("pk")).select_related("flag__indicator"):
        signals[signal.flag_id].append(signal)
    latest_period = (
        Measurement.objects.filter(indicator_id=OuterRef("indicator_id")).order_by("-period").values("period")[:1]
    )
    latest = {
        m.indicator_id: m
        for m in Measurement.objects.filter(
            indicator_id__in=flags.values("indicator_id"), period=Subquery(latest_period)
        ).only("indicator_id", "period", "value")
    }
    recovered = set()
    for flag_id, case_signals in signals.items():
        lead = max(case_signals, key=Signal.rank)
        after = latest.get(lead.flag.indicator_id)
        if after is None or after.period <= lead.period:
            continue
        if back_to_baseline(lead.flag.indicator.desired_direction, lead.baseline, after.value):
            recovered.add(flag_id)
    return recovered


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
