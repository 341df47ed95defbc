"""django-filter filter sets of the lists. Agencies and portfolios are named by their codes, users by their
usernames (``assignee=me`` for oneself). ``flags/bulk/`` reuses ``FlagFilter`` so that a bulk action with a
``filter`` acts on exactly what ``GET flags/`` with the same parameters lists."""

import django_filters as filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from escalations.audit import Verb
from escalations.lifecycle import OPEN_STATUSES, FlagStatus, Severity
from escalations.models import Event, Flag, FlagCategory
from escalations.selectors import flags_with_active_signal_of
from indicators.models import Indicator, Rag

MAX_ID = 2**63 - 1


class IdFilter(filters.NumberFilter):
    """An object id; out-of-range numbers are refused as invalid input rather than reaching the database."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or 1/0); anything else is refused rather than silently ignored, so that a bulk
    action's filter never widens to every flag because of a typo."""

    TRUE, FALSE = {"true", "1"}, {"false", "0"}

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
    field_class = StrictBooleanField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment within years 2 to 9998, so that converting it to UTC cannot overflow."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not 1 < value.year < 9999:
            raise forms.ValidationError("Give a date between the years 2 and 9998.")
        return value


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class FlagFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=FlagStatus.choices, help_text="Repeat for several statuses.")
    open = BooleanFilter(method="filter_open", help_text="true: open flags; false: closed ones.")
    severity = filters.ChoiceFilter(choices=Severity.choices)
    agency = filters.CharFilter(field_name="indicator__agency__code", help_text="Agency code.")
    portfolio = filters.CharFilter(field_name="indicator__agency__portfolio__code", help_text="Portfolio code.")
    indicator = IdFilter(field_name="indicator_id")
    rule = IdFilter(method="filter_rule", help_text="Cases with an active signal of this rule.")
    assignee = filters.CharFilter(method="filter_assignee", help_text="Username, or `me`.")
    critical = BooleanFilter(field_name="indicator__critical")
    category = filters.ChoiceFilter(
        choices=FlagCategory.choices, help_text="performance, or data_quality (reporting gaps, impossible values)."
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("priority", "priority"),
            ("detected_at", "detected_at"),
            ("severity", "severity"),
            ("id", "id"),
            ("status", "status"),
        ),
        help_text="e.g. `-priority` (the triage queue's order), `detected_at`, `-id`.",
    )

    class Meta:
        model = Flag
        fields = []

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_rule(self, queryset, name, value):
        return flags_with_active_signal_of(queryset, value)

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user) if self.request else queryset.none()
        return queryset.filter(assignee__username=value)


class EventFilter(filters.FilterSet):
    actor = filters.CharFilter(method="filter_actor", help_text="Username, or a system label such as `nightly check`.")
    verb = filters.MultipleChoiceFilter(choices=Verb.choices, help_text="Dotted code; repeat for several.")
    flag = IdFilter(field_name="flag_id")
    project = IdFilter(field_name="project_id")
    indicator = IdFilter(field_name="indicator_id")
    since = MomentFilter(field_name="occurred_at", lookup_expr="gte", help_text="ISO 8601, inclusive.")
    until = MomentFilter(field_name="occurred_at", lookup_expr="lt", help_text="ISO 8601, exclusive.")

    class Meta:
        model = Event
        fields = []

    def filter_actor(self, queryset, name, value):
        return queryset.filter(Q(actor__username=value) | Q(actor__isnull=True, actor_label=value))


class IndicatorFilter(filters.FilterSet):
    agency = filters.CharFilter(field_name="agency__code", help_text="Agency code.")
    portfolio = filters.CharFilter(field_name="agency__portfolio__code", help_text="Portfolio code.")
    critical = BooleanFilter()
    active = BooleanFilter()
    rag = filters.ChoiceFilter(choices=Rag.choices, help_text="What the latest check measured.")
    q = filters.CharFilter(method="filter_q", help_text="Words in the name, or the external id.")

    class Meta:
        model = Indicator
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(external_id__iexact=value.strip()))
