"""Every read that depends on who is asking. The API's querysets and the pages start here, so nobody lists
or opens what their scope does not reach (an object outside it simply does not exist for them: 404).

Each selector joins what its callers display, so a page or API list costs a fixed number of queries."""

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When

from indicators.models import Indicator, Measurement

from .access import scope_of
from .lifecycle import OPEN_STATUSES, FlagStatus, Severity
from .models import Escalation, Event, Flag, Project


def _agency_filter(user, prefix: str) -> Q | None:
    """``None`` when the user sees every agency; else a filter on ``<prefix>agency`` for their scope."""
    scope = scope_of(user)
    if scope.sees_all:
        return None
    return Q(**{f"{prefix}agency_id__in": scope.agency_ids}) | Q(
        **{f"{prefix}agency__portfolio_id__in": scope.portfolio_ids}
    )


def flags_visible_to(user) -> QuerySet[Flag]:
    flags = Flag.objects.select_related("indicator__agency__portfolio", "rule", "assignee", "project")
    condition = _agency_filter(user, "indicator__")
    return flags if condition is None else flags.filter(condition)


def flag_get(user, pk) -> Flag:
    """The flag if ``user`` may see it; raises ``Flag.DoesNotExist`` otherwise."""
    return flags_visible_to(user).get(pk=pk)


def escalations_awaiting_decision(user) -> QuerySet[Escalation]:
    """Escalations of the user's portfolio(s) that wait for a deputy mayor's decision."""
    escalations = Escalation.objects.filter(decision="", flag__status=FlagStatus.ESCALATED).select_related(
        "flag__indicator__agency__portfolio", "flag__rule", "escalated_by", "portfolio"
    )
    scope = scope_of(user)
    if scope.sees_all:
        return escalations
    return escalations.filter(flag__indicator__agency__portfolio_id__in=scope.portfolio_ids)


def projects_visible_to(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("owner").prefetch_related("agencies", "milestones")
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


class Rag:
    """An indicator's colour on the dashboards: red or yellow when it has an open performance flag of that
    severity (the worst wins), green otherwise. Data-quality flags do not colour a dashboard."""

    RED, YELLOW, GREEN = "red", "yellow", "green"
    LABELS = {RED: "Red", YELLOW: "Yellow", GREEN: "Green"}


def indicators_with_status() -> QuerySet[Indicator]:
    """Every indicator (everyone signed in reads the dashboards) annotated with ``rag``, ``latest_value``
    and ``latest_period``, in one query."""
    open_flags = Flag.objects.filter(indicator=OuterRef("pk"), status__in=OPEN_STATUSES, category="performance")
    latest = Measurement.objects.filter(indicator=OuterRef("pk")).order_by("-period")
    return Indicator.objects.select_related("agency__portfolio").annotate(
        rag=Case(
            When(Exists(open_flags.filter(severity=Severity.RED)), then=Value(Rag.RED)),
            When(Exists(open_flags), then=Value(Rag.YELLOW)),
            default=Value(Rag.GREEN),
        ),
        latest_value=Subquery(latest.values("value")[:1]),
        latest_period=Subquery(latest.values("period")[:1]),
    )
