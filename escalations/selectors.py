"""Every read that depends on who is asking. The API's querysets and the pages start here, so nobody lists
or opens what their scope does not reach (an object outside it simply does not exist for them: 404).

Each selector joins what its callers display, so a page or API list costs a fixed number of queries."""

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from core.errors import NotFound
from core.permissions import Capability, Role, roles_of, scope_of
from indicators.detection import rules_applying
from indicators.models import Agency, Indicator, Measurement, Portfolio, ThresholdRule
from indicators.selectors import indicators_matching

from .lifecycle import OPEN_STATUSES, FlagStatus, ProjectStatus, Severity, Users
from .models import (
    EmailMode,
    Escalation,
    Event,
    Flag,
    FlagCategory,
    Note,
    Notification,
    NotificationPreference,
    Project,
    SavedView,
    Signal,
)
from .priority import priority_annotation


def signals_prefetch(prefix: str = "") -> Prefetch:
    """A case's signals with their rules, worst first is the pages' job (``Flag.lead_signal``)."""
    return Prefetch(f"{prefix}signals", queryset=Signal.objects.select_related("rule").order_by("id"))


def _agency_filter(user, prefix: str) -> Q | None:
    """``None`` when the user sees every agency; else a filter on ``<prefix>agency`` for their scope."""
    scope = scope_of(user)
    if scope.sees_all:
        return None
    return Q(**{f"{prefix}agency_id__in": scope.agency_ids}) | Q(
        **{f"{prefix}agency__portfolio_id__in": scope.portfolio_ids}
    )


def flags_visible_to(user) -> QuerySet[Flag]:
    """The cases the user may see, with their signals and their ``priority`` (see ``priority.py``)."""
    flags = (
        Flag.objects.select_related("indicator__agency__portfolio", "assignee", "project")
        .prefetch_related(signals_prefetch())
        .annotate(priority=priority_annotation())
    )
    condition = _agency_filter(user, "indicator__")
    return flags if condition is None else flags.filter(condition)


def flags_with_active_signal_of(flags: QuerySet[Flag], rule_id) -> QuerySet[Flag]:
    """The cases with an active (not cleared) signal of the rule."""
    return flags.filter(pk__in=Signal.objects.filter(rule_id=rule_id, cleared_at__isnull=True).values("flag_id"))


def flag_get(user, pk) -> Flag:
    """The flag if ``user`` may see it; raises ``Flag.DoesNotExist`` otherwise."""
    return flags_visible_to(user).get(pk=pk)


def escalations_awaiting_decision(user) -> QuerySet[Escalation]:
    """Escalations of the user's portfolio(s) that wait for a deputy mayor's decision."""
    escalations = (
        Escalation.objects.filter(decision="", flag__status=FlagStatus.ESCALATED)
        .select_related("flag__indicator__agency__portfolio", "escalated_by", "portfolio")
        .prefetch_related(signals_prefetch("flag__"))
    )
    scope = scope_of(user)
    if scope.sees_all:
        return escalations
    return escalations.filter(flag__indicator__agency__portfolio_id__in=scope.portfolio_ids)


def projects_visible_to(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("owner").prefetch_related("agencies", "milestones__owner")
    scope = scope_of(user)
    if scope.sees_all:
        return projects
    in_scope = Project.objects.filter(
        Q(agencies__id__in=scope.agency_ids) | Q(agencies__portfolio_id__in=scope.portfolio_ids)
    )
    return projects.filter(pk__in=in_scope.values("pk"))


def events_visible_to(user) -> QuerySet[Event]:
    """The audit trail as far as the user's scope reaches: everything for ops leads, project managers,
    auditors and admins; otherwise the events of the flags and projects they may see."""
    events = Event.objects.select_related("actor", "flag__indicator", "project", "indicator")
    if scope_of(user).sees_all:
        return events
    return events.filter(
        Q(flag__in=flags_visible_to(user).values("pk")) | Q(project__in=projects_visible_to(user).values("pk"))
    )


def indicators_with_status() -> QuerySet[Indicator]:
    """Every indicator (everyone signed in reads the dashboards) with its latest value, period and whether that
    value is preliminary (``latest_preliminary``), and its
    latest performance case (``case_id``, ``case_status``, ``case_dismiss_reason``), in one query. The colour
    itself is ``Indicator.rag``: what the latest check measured, whatever the case's status."""
    latest = Measurement.objects.filter(indicator=OuterRef("pk")).order_by("-period")
    case = Flag.objects.filter(indicator=OuterRef("pk"), category=FlagCategory.PERFORMANCE).order_by("-id")
    return Indicator.objects.select_related("agency__portfolio").annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_period=Subquery(latest.values("period")[:1]),
        latest_preliminary=Subquery(latest.values("preliminary")[:1]),
        case_id=Subquery(case.values("id")[:1]),
        case_status=Subquery(case.values("status")[:1]),
        case_dismiss_reason=Subquery(case.values("dismiss_reason")[:1]),
    )


def portfolio_for_briefing(user, code: str) -> Portfolio:
    """The portfolio whose briefing ``user`` may read (a deputy mayor's office: its own; ops leads, auditors
    and admins: any); ``NotFound`` otherwise, so that another's does not exist for them (404 on the page and in
    the API)."""
    portfolio = Portfolio.objects.filter(code=code).first()
    if portfolio is None or not scope_of(user).may(Capability.READ_BRIEFINGS, portfolio_id=portfolio.pk):
        raise NotFound("No such briefing.")
    return portfolio


def indicators_found(text: str) -> QuerySet[Indicator]:
    """What the search finds (the search box and its page): the indicators ``indicators_matching`` finds, with
    their status — unscoped, as the dashboards: indicators are public performance data everyone signed in
    reads. The MMR ID typed exactly comes first, then the indicators still reported, then by name."""
    exact_id = Case(When(external_id=text.strip(), then=Value(0)), default=Value(1), output_field=IntegerField())
    return indicators_matching(indicators_with_status(), text).order_by(exact_id, "-active", "name", "pk")


def indicators_on_dashboard() -> QuerySet[Indicator]:
    """The active indicators with their status: what the dashboard (page and API) counts."""
    return indicators_with_status().filter(active=True)


# --- Reads the pages need beside the scoped lists above. -------------------------------------------------


def portfolios_all() -> QuerySet[Portfolio]:
    return Portfolio.objects.order_by("name")


def agencies_all() -> QuerySet[Agency]:
    return Agency.objects.select_related("portfolio").order_by("name")


def agencies_in_scope(user) -> QuerySet[Agency]:
    """The agencies whose cases ``user`` may see (what a scoped list's agency filter offers): a liaison's own,
    the agencies of a deputy mayor's office's portfolios, every agency for a role that sees everything."""
    scope = scope_of(user)
    if scope.sees_all:
        return agencies_all()
    return agencies_all().filter(Q(id__in=scope.agency_ids) | Q(portfolio_id__in=scope.portfolio_ids))


def portfolios_in_scope(user) -> QuerySet[Portfolio]:
    """The portfolios of the agencies in ``user``'s scope (a liaison: their agencies' portfolios)."""
    if scope_of(user).sees_all:
        return portfolios_all()
    return portfolios_all().filter(pk__in=agencies_in_scope(user).values("portfolio_id"))


def rules_all() -> QuerySet[ThresholdRule]:
    return ThresholdRule.objects.order_by("name")


def rules_applying_to(indicator) -> list[ThresholdRule]:
    """The active rules the check applies to ``indicator`` (scopes and replacing rules resolved by the
    check's own query)."""
    return list(ThresholdRule.objects.filter(pk__in=rules_applying(indicator.pk)).order_by("kind", "name"))


def work_waiting(user) -> dict[str, int]:
    """What waits for the user, for the page header: open flags assigned to them and, for a deputy mayor's
    office, escalations awaiting its decision. One query per count the user's roles call for."""
    roles = roles_of(user)
    waiting = {}
    if roles & {Role.LIAISON, Role.OPS_LEAD}:
        waiting["assigned"] = Flag.objects.filter(assignee=user, status__in=OPEN_STATUSES).count()
    if Role.DEPUTY_MAYOR in roles:
        waiting["decisions"] = escalations_awaiting_decision(user).count()
    return waiting


def series_by_indicator(indicator_ids=None) -> dict[int, list[Measurement]]:
    """Each indicator's measurements in period order, in one query (``None``: every indicator; a queryset of
    ids stays a subquery, so a filtered dashboard does not send a thousand parameters)."""
    measurements = Measurement.objects.only("indicator_id", "period", "value", "preliminary").order_by(
        "indicator_id", "period"
    )
    if indicator_ids is not None:
        measurements = measurements.filter(indicator_id__in=indicator_ids)
    series: dict[int, list[Measurement]] = {}
    for measurement in measurements:
        series.setdefault(measurement.indicator_id, []).append(measurement)
    return series


def open_flag_counts_by_agency() -> dict[int, dict[str, int]]:
    """Open flags counted per agency and severity, in one query. Unscoped like the dashboard's RAG colours
    (everyone signed in reads the dashboards); the flags themselves stay behind ``flags_visible_to``."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Flag.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("indicator__agency_id", "severity")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        agency_counts = counts.setdefault(row["indicator__agency_id"], {Severity.RED: 0, Severity.YELLOW: 0})
        agency_counts[row["severity"]] = row["n"]
    return counts


def indicator_get(pk) -> Indicator:
    """One indicator with its RAG status and latest value; raises ``Indicator.DoesNotExist``."""
    return indicators_with_status().get(pk=pk)


def indicators_mergeable_into(indicator: Indicator) -> QuerySet[Indicator]:
    """The indicators that could be merged into ``indicator``: its agency's others of the same frequency, not
    merged already, by name (the merge form's choices; ``indicator_merge`` checks the same)."""
    return (
        Indicator.objects.filter(agency_id=indicator.agency_id, frequency=indicator.frequency, merged_into=None)
        .exclude(pk=indicator.pk)
        .exclude(pk=indicator.parent_id or 0)
        .exclude(parent_id=indicator.pk)
        .order_by("name", "external_id")
    )


def indicator_measurements(indicator) -> list[Measurement]:
    return list(Measurement.objects.filter(indicator=indicator).order_by("period"))


def flags_of_indicator(user, indicator) -> QuerySet[Flag]:
    return flags_visible_to(user).filter(indicator=indicator).order_by("-detected_at", "-id")


def events_of_flag(flag) -> QuerySet[Event]:
    return Event.objects.filter(flag=flag).select_related("actor", "indicator").order_by("id")


def events_of_indicator(user, indicator) -> QuerySet[Event]:
    """What Operations did about an indicator: the events of its flags and of the projects they became."""
    return (
        events_visible_to(user)
        .filter(Q(indicator=indicator) | Q(project__flags__indicator=indicator))
        .distinct()
        .order_by("id")
    )


def notes_of_flag(flag) -> QuerySet[Note]:
    return Note.objects.filter(flag=flag).select_related("author").order_by("created_at", "id")


def flag_workers(agency) -> QuerySet:
    """Who may be assigned a flag of ``agency``: its liaisons and every ops lead."""
    User = get_user_model()
    return (
        User.objects.filter(
            Q(groups__name=Role.OPS_LEAD) | Q(groups__name=Role.LIAISON, agencies=agency), is_active=True
        )
        .distinct()
        .order_by("username")
    )


def assignable_users() -> QuerySet:
    """Everyone who may be assigned some flag (bulk assignment; the service checks each flag's agency)."""
    User = get_user_model()
    return (
        User.objects.filter(groups__name__in=[Role.OPS_LEAD, Role.LIAISON], is_active=True)
        .distinct()
        .order_by("username")
    )


def project_managers() -> QuerySet:
    User = get_user_model()
    return User.objects.filter(groups__name=Role.PROJECT_MANAGER, is_active=True).distinct().order_by("username")


def people_active() -> QuerySet:
    """Everyone who can still sign in: who may own a milestone (an agency's liaison as well as a project
    manager)."""
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


def users_qualifying(users: Users, agency=None) -> QuerySet:
    """The people a ``USER`` input of the transition table accepts (``agency``: for a flag of that agency)."""
    if users == Users.PROJECT_MANAGERS:
        return project_managers()
    return flag_workers(agency) if agency is not None else assignable_users()


def open_projects(user) -> QuerySet[Project]:
    return projects_visible_to(user).exclude(status__in=[ProjectStatus.COMPLETED, ProjectStatus.CANCELLED])


def project_get(user, pk) -> Project:
    """The project if ``user`` may see it, with its flags; raises ``Project.DoesNotExist`` otherwise."""
    projects = projects_visible_to(user).prefetch_related("flags__indicator__agency", signals_prefetch("flags__"))
    return projects.get(pk=pk)


def escalations_of_flag(flag) -> QuerySet[Escalation]:
    return Escalation.objects.filter(flag=flag).select_related("escalated_by", "decided_by").order_by("escalated_at")


def notifications_of(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    return Notification.objects.filter(user=user).select_related("event").order_by("-created_at", "-id")


def notifications_by_case(user) -> QuerySet[Notification]:
    """The user's notifications one row per case, newest first: the latest notification of each case (a
    notification about no case, a project's say, is a row of its own), with ``others`` (how many earlier ones
    of the same case) and ``unread`` (how many of the case's are unread), and the case's indicator and agency."""
    mine = Notification.objects.filter(user=user)
    same_case = mine.filter(event__flag_id=OuterRef("event__flag_id"))
    # Ids grow with creation: the latest of a case is the one no other of the same case outnumbers.
    newer = same_case.filter(pk__gt=OuterRef("pk"))

    def count(rows: QuerySet[Notification]) -> Coalesce:
        counted = rows.order_by().values("event__flag_id").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted), 0)

    return (
        mine.filter(Q(event__flag_id__isnull=True) | ~Exists(newer))
        .select_related("event__flag__indicator__agency")
        .annotate(
            others=count(same_case.exclude(pk=OuterRef("pk"))),
            unread=count(same_case.filter(read_at__isnull=True)),
        )
        .order_by("-created_at", "-id")
    )


def notifications_unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def saved_views_of(user) -> QuerySet[SavedView]:
    """The user's own saved views of the queue, by name."""
    return SavedView.objects.filter(user=user).order_by("name", "id")


def email_mode_of(user) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.email_mode if preference else EmailMode.IMMEDIATE
