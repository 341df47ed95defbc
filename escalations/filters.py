"""The filters of the lists, one ``FilterSet`` per list, used by the pages and the API alike: the same query
string gives the same rows on the triage queue and ``GET /api/v1/flags/``, on the audit log and
``GET /api/v1/events/``, on the dashboard and ``GET /api/v1/dashboard/`` (and ``indicators/``). Agencies and
portfolios are named by their codes, users by their usernames (``assignee=me`` for oneself).

A bare query means everything the user may see, in the list's default order. A page whose everyday view is
narrower (the queue: open performance cases by priority; the audit log: newest first) sends a bare request
to that view written out in its address (``DEFAULT_VIEWS``), so what a page shows is always what its query
says. ``flags/bulk/`` reuses ``FlagFilter``, so a bulk action with a ``filter`` acts on exactly what the list
with the same parameters shows.

The querysets come from the selectors (scope applied); the filters only narrow and order them."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import django_filters as filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from indicators.models import Indicator, Rag
from indicators.selectors import indicators_matching

from . import selectors
from .audit_trail import Verb
from .lifecycle import OPEN_STATUSES, FlagStatus, Severity
from .models import Event, Flag, FlagCategory, FlagOrigin, Project

MAX_ID = 2**63 - 1
MANUAL = "manual"  # the ``rule`` of cases raised by a person


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An object id; out-of-range numbers are refused as invalid input rather than reaching the database."""

    # The stubs narrow ``field_class`` to NumberFilter's default (DecimalField); django-filter takes any field.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or 1/0); anything else is refused rather than silently ignored, so that a bulk
    action's filter never widens to every flag because of a typo. A page shows it as a select."""

    TRUE, FALSE = {"true", "1", "on"}, {"false", "0"}
    widget = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Must be true or false.")


class BooleanFilter(filters.BooleanFilter):
    # The stubs narrow ``field_class`` to BooleanFilter's default (NullBooleanField); django-filter takes any field.
    field_class = StrictBooleanField  # type: ignore[assignment]


class DayOrMomentField(forms.Field):
    """A day (``YYYY-MM-DD``, New York time) or an ISO 8601 moment, within the years 2 to 9998 (so that
    converting it to UTC cannot overflow). Returns ``(moment, is_day)``."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None:
            moment, is_day = dt.datetime.combine(day, dt.time.min), True
        else:
            try:
                moment, is_day = dt.datetime.fromisoformat(text.replace("Z", "+00:00")), False
            except ValueError:
                raise forms.ValidationError("Give a date (YYYY-MM-DD) or an ISO 8601 moment.") from None
        if not 1 < moment.year < 9999:
            raise forms.ValidationError("Give a date between the years 2 and 9998.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment, is_day


YEARS_2_TO_9998 = "^(?!0001-|9999-)"
DAY_OR_MOMENT = {
    "oneOf": [
        {"type": "string", "format": "date", "pattern": YEARS_2_TO_9998},
        {"type": "string", "format": "date-time", "pattern": YEARS_2_TO_9998},
    ]
}


@extend_schema_field(DAY_OR_MOMENT)
class SinceFilter(filters.Filter):
    """From this day (inclusive) or moment (inclusive)."""

    field_class = DayOrMomentField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(**{f"{self.field_name}__gte": value[0]})


@extend_schema_field(DAY_OR_MOMENT)
class UntilFilter(filters.Filter):
    """Through this day (the whole day, inclusive), or before this moment (exclusive)."""

    field_class = DayOrMomentField

    def filter(self, qs, value):
        if value is None:
            return qs
        moment, is_day = value
        end = moment + dt.timedelta(days=1) if is_day else moment
        return qs.filter(**{f"{self.field_name}__lt": end})


class SortFilter(filters.ChoiceFilter):
    """``ordering``: one of named orders (``{value: (label, order_by)}``), ``default`` when none is asked
    for; the primary key breaks ties."""

    def __init__(self, *args, orders: dict[str, tuple[str, list[str]]], default: str, **kwargs):
        self.orders, self.default = orders, default
        kwargs["choices"] = [(value, label) for value, (label, _) in orders.items()]
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("help_text", f"Default: {default}.")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.order_by(*self.orders[value or self.default][1], "pk")


# The options of the code filters, read for the user who asks (``None``: no request, every option). A scoped
# list (the queue, the audit log) offers only the agencies and portfolios whose rows the user may see: a
# liaison who covers two agencies is offered two, not every agency of the city.
Options = Callable[[Any], list[tuple[str, str]]]


def _agency_options(user: Any) -> list[tuple[str, str]]:
    return [(agency.code, agency.name) for agency in selectors.agencies_all()]


def _agency_options_in_scope(user: Any) -> list[tuple[str, str]]:
    agencies = selectors.agencies_all() if user is None else selectors.agencies_in_scope(user)
    return [(agency.code, agency.name) for agency in agencies]


def _portfolio_options(user: Any) -> list[tuple[str, str]]:
    return [(portfolio.code, portfolio.name) for portfolio in selectors.portfolios_all()]


def _portfolio_options_in_scope(user: Any) -> list[tuple[str, str]]:
    portfolios = selectors.portfolios_all() if user is None else selectors.portfolios_in_scope(user)
    return [(portfolio.code, portfolio.name) for portfolio in portfolios]


def _rule_options(user: Any) -> list[tuple[str, str]]:
    return [(MANUAL, "Raised by a person"), *((str(rule.pk), rule.name) for rule in selectors.rules_all())]


class OptionsSelect(forms.Select):
    """A select whose options are read when it is drawn (once per drawing), not when the form is built, for
    ``user`` (set by the ``CodeFilter`` from its filter set's request)."""

    def __init__(self, options: Options, empty_label: str):
        super().__init__()
        self.read_options, self.empty_label, self.user = options, empty_label, None

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        options: list[tuple[str, str]] = [("", self.empty_label), *self.read_options(self.user)]
        self.choices = options
        return super().get_context(name, value, attrs)


class CodeFilter(filters.CharFilter):
    """Something named by its code (an agency, a portfolio, a rule's id). Any text is accepted — a code that
    names nothing selects nothing, as any filter that matches no row — and a page offers the known codes in a
    select, read for the user of the filter set's request (``options(user)``)."""

    def __init__(self, *args: Any, options: Options, empty_label: str = "Any", **kwargs: Any):
        kwargs.setdefault("widget", OptionsSelect(options, empty_label))
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        field = super().field
        if isinstance(field.widget, OptionsSelect):
            request = getattr(self.parent, "request", None)  # ``parent``: the filter set, set when it is built
            field.widget.user = getattr(request, "user", None)
        return field


def AgencyFilter(path: str = "", *, scoped: bool = False, **kwargs: Any) -> CodeFilter:  # noqa: N802 (used like a class)
    """An agency named by its code; ``path`` leads from the list's model to the agency (none with a
    ``method``). ``scoped``: the list shows only the user's scope, so the select offers only its agencies."""
    kwargs.setdefault("label", "Agency")
    kwargs.setdefault("help_text", "Agency code.")
    if "method" not in kwargs:
        kwargs["field_name"] = f"{path}code"
    return CodeFilter(options=_agency_options_in_scope if scoped else _agency_options, **kwargs)


def PortfolioFilter(path: str, *, scoped: bool = False, **kwargs: Any) -> CodeFilter:  # noqa: N802 (used like a class)
    """A portfolio named by its code; ``path`` leads from the list's model to the portfolio. ``scoped``: as
    ``AgencyFilter``'s."""
    kwargs.setdefault("label", "Portfolio")
    options = _portfolio_options_in_scope if scoped else _portfolio_options
    return CodeFilter(field_name=f"{path}code", options=options, help_text="Portfolio code.", **kwargs)


FLAG_ORDERS: dict[str, tuple[str, list[Any]]] = {
    "-priority": ("Priority", ["-priority", "detected_at"]),
    # Cases without a deadline (in review, monitoring, closed) after every dated one, on every database.
    "due": ("Due soonest first", [F("due_at").asc(nulls_last=True), "-priority"]),
    "severity": ("Severity, then oldest", ["severity", "detected_at"]),  # "red" < "yellow"
    "detected_at": ("Oldest first", ["detected_at"]),
    "-detected_at": ("Newest first", ["-detected_at"]),
    "agency": ("Agency", ["indicator__agency__name", "severity", "detected_at"]),
    "status": ("Status", ["status"]),
    "-id": ("Newest case number first", ["-id"]),
    "id": ("Oldest case number first", ["id"]),
}


# The ``due`` filter: a case's deadline is ``Flag.due_at`` (``deadlines.due_at_for``: starting review for a
# detected case, the decision for an escalated one); it is past due from that moment, before the SLA job has
# marked it (``overdue_at``) and told anyone.
OVERDUE, DUE_THIS_WEEK = "overdue", "week"
DUE_CHOICES = [(OVERDUE, "Overdue"), (DUE_THIS_WEEK, "Due in the next 7 days")]
DUE_SOON = dt.timedelta(days=7)


class FlagFilter(filters.FilterSet):
    """The flag list: the triage queue page and ``GET /api/v1/flags/``."""

    open = BooleanFilter(method="filter_open", label="Open", help_text="Open cases (true) or closed ones (false).")
    status = filters.MultipleChoiceFilter(
        choices=FlagStatus.choices,
        label="Status",
        widget=forms.SelectMultiple(attrs={"size": 3}),
        help_text="One or several.",
    )
    category = filters.ChoiceFilter(
        choices=FlagCategory.choices,
        label="Queue",
        empty_label="Both",
        help_text="Performance, or data quality (reporting gaps, impossible values).",
    )
    severity = filters.ChoiceFilter(choices=Severity.choices, label="Severity", empty_label="Any")
    portfolio = PortfolioFilter("indicator__agency__portfolio__", scoped=True)
    agency = AgencyFilter("indicator__agency__", scoped=True)
    indicator = IdFilter(field_name="indicator_id", widget=forms.HiddenInput)
    rule = CodeFilter(
        options=_rule_options,
        method="filter_rule",
        label="Rule",
        help_text="Cases with an active signal of the rule (its id), or raised by a person (manual).",
    )
    assignee = filters.CharFilter(
        method="filter_assignee",
        label="Assignee",
        widget=forms.Select(choices=[("", "Anyone"), ("me", "Me"), ("none", "Nobody")]),
        help_text="A username, me, or none (unassigned).",
    )
    critical = BooleanFilter(field_name="indicator__critical", label="Critical indicator")
    due = filters.ChoiceFilter(
        choices=DUE_CHOICES,
        method="filter_due",
        label="Due",
        empty_label="Any",
        help_text="Open cases past their deadline (overdue), or due within the next 7 days (week).",
    )
    # By id by default: PostgreSQL walks the primary key backwards and joins just one page (ordering by
    # detected_at made it join and sort every open case: 200 ms at 100,000).
    ordering = SortFilter(orders=FLAG_ORDERS, default="-id", label="Sort")

    class Meta:
        model = Flag
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_rule(self, queryset, name, value: str):
        if value == MANUAL:
            return queryset.filter(origin=FlagOrigin.MANUAL)
        if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
            return queryset.none()  # names no rule
        return selectors.flags_with_active_signal_of(queryset, int(value))

    def filter_due(self, queryset, name, value: str):
        now = timezone.now()
        open_cases = queryset.filter(status__in=OPEN_STATUSES)
        if value == OVERDUE:
            return open_cases.filter(due_at__lt=now)
        return open_cases.filter(due_at__gte=now, due_at__lt=now + DUE_SOON)

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee=user) if user is not None and user.is_authenticated else queryset.none()
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee__username=value)


class EventFilter(filters.FilterSet):
    """The audit log: its page and ``GET /api/v1/events/``."""

    actor = filters.CharFilter(
        method="filter_actor",
        label="Actor",
        help_text="A username, or a system label such as nightly check (any case).",
    )
    verb = filters.MultipleChoiceFilter(
        choices=Verb.choices,
        label="What happened",
        widget=forms.SelectMultiple(attrs={"size": 3}),
        help_text="One or several.",
    )
    agency = AgencyFilter(
        method="filter_agency",
        scoped=True,
        help_text="Agency code: events of its indicators, their cases and the projects it takes part in.",
    )
    flag = IdFilter(field_name="flag_id", widget=forms.HiddenInput)
    project = IdFilter(field_name="project_id", widget=forms.HiddenInput)
    indicator = IdFilter(field_name="indicator_id", widget=forms.HiddenInput)
    since = SinceFilter(field_name="occurred_at", label="From", help_text="A day or an ISO 8601 moment, inclusive.")
    until = UntilFilter(
        field_name="occurred_at",
        label="To",
        help_text="A day (the whole day is included) or an ISO 8601 moment (exclusive).",
    )
    ordering = SortFilter(
        orders={"-id": ("Newest first", ["-id"]), "id": ("Oldest first (the order of the hash chain)", ["id"])},
        default="id",
        label="Order",
    )

    class Meta:
        model = Event
        fields: list[str] = []

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(actor__username__iexact=value) | Q(actor__isnull=True, actor_label__iexact=value))

    def filter_agency(self, queryset, name, value: str):
        in_project = Project.agencies.through.objects.filter(project_id=OuterRef("project_id"), agency__code=value)
        return queryset.filter(
            Q(indicator__agency__code=value) | Q(flag__indicator__agency__code=value) | Q(Exists(in_project))
        )


class IndicatorFilter(filters.FilterSet):
    """Indicators: the dashboard page, ``GET /api/v1/dashboard/`` and ``GET /api/v1/indicators/``."""

    portfolio = PortfolioFilter("agency__portfolio__", empty_label="All portfolios")
    agency = AgencyFilter("agency__", empty_label="All agencies")
    critical = BooleanFilter(label="Critical")
    rag = filters.ChoiceFilter(
        choices=Rag.choices, label="Colour", empty_label="Any", help_text="What the latest check measured."
    )
    active = BooleanFilter(widget=forms.HiddenInput)
    q = filters.CharFilter(
        method="filter_q",
        label="Search",
        help_text="Name, MMR ID, service or agency (the beginnings of words are enough).",
    )

    class Meta:
        model = Indicator
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return indicators_matching(queryset, value)


# What a bare request of each page shows, written out (see the module's docstring).
DEFAULT_VIEWS = {
    "flag_queue": {"open": "true", "category": FlagCategory.PERFORMANCE, "ordering": "-priority"},
    "audit_log": {"ordering": "-id"},
}
