"""Flags, their notes and timeline, and the input of each lifecycle action."""

from typing import TYPE_CHECKING, Any, TypedDict

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalations.access import available_actions
from escalations.audit_trail import verb_label
from escalations.case_signals import breach_sentence
from escalations.filters import MAX_ID, FlagFilter
from escalations.lifecycle import RAISE_INPUTS, TRANSITIONS, Action, DismissReason, Input, InputKind, Transition
from escalations.models import Event, Flag, Note, Project, Signal
from escalations.priority import PRIORITY_FORMULA, priority_terms
from escalations.selectors import projects_visible_to
from escalations.services import BULK_LIMIT
from indicators.models import Indicator, MeasureUnit, ThresholdRule

from ..fields import BooleanField, CharField, DecimalField, ModelSerializer
from .common import AgencyCodeField, UsernameField

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class IndicatorRefSerializer(ModelSerializer):
    agency = CharField(source="agency.code", read_only=True, help_text="The agency's code.")

    class Meta:
        model = Indicator
        fields = ["id", "external_id", "name", "agency", "critical", "parent"]
        extra_kwargs = {
            "parent": {"read_only": True, "help_text": "The id of a breakout's (a district's) parent indicator."}
        }


class RuleRefSerializer(ModelSerializer):
    class Meta:
        model = ThresholdRule
        fields = ["id", "name", "kind"]


class SignalSerializer(ModelSerializer):
    """One rule's breach within the case, with its measure in the rule kind's own unit (percent, σ, periods,
    days) and the thresholds that applied, in the same unit."""

    rule = RuleRefSerializer(read_only=True)
    unit = serializers.ChoiceField(choices=MeasureUnit.choices, allow_blank=True, read_only=True)
    active = serializers.SerializerMethodField(help_text="Not cleared: the rule still breaches.")
    description = serializers.SerializerMethodField(help_text="The signal in words.")

    class Meta:
        model = Signal
        fields = [
            "rule",
            "period",
            "value",
            "baseline",
            "change",
            "measure",
            "unit",
            "yellow",
            "red",
            "severity",
            "preliminary",
            "active",
            "description",
            "first_seen_at",
            "last_seen_at",
            "cleared_at",
        ]
        read_only_fields = fields

    def get_active(self, signal: Signal) -> bool:
        return signal.cleared_at is None

    def get_description(self, signal: Signal) -> str:
        return breach_sentence(signal, signal.flag.indicator)


class PriorityTermSerializer(serializers.Serializer):
    reason = CharField()
    points = serializers.IntegerField()


class FlagSerializer(ModelSerializer):
    """A case: one per indicator and category while open, with its signals (one per breaching rule), its
    priority and why, and the actions the requesting user may take on it now."""

    indicator = IndicatorRefSerializer(read_only=True)
    signals = SignalSerializer(many=True, read_only=True)
    priority = serializers.IntegerField(
        read_only=True, help_text=f"How urgent the case is; the triage queue's order. {PRIORITY_FORMULA}"
    )
    priority_terms = serializers.SerializerMethodField(help_text="The terms of the priority, largest first.")
    portfolio = serializers.SerializerMethodField(help_text="The code of the agency's portfolio.")
    assignee: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    available_actions = serializers.SerializerMethodField()
    dismiss_reason = serializers.ChoiceField(choices=DismissReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "indicator",
            "portfolio",
            "origin",
            "category",
            "summary",
            "period",
            "value",
            "severity",
            "severity_pinned",
            "priority",
            "priority_terms",
            "signals",
            "status",
            "assignee",
            "detected_at",
            "recovered_at",
            "due_at",
            "overdue_at",
            "monitor_until",
            "dismiss_reason",
            "resolution",
            "closed_at",
            "previous_flag",
            "reraise_reason",
            "project",
            "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CharField(allow_null=True))
    def get_portfolio(self, flag: Flag) -> str | None:
        portfolio = flag.indicator.agency.portfolio
        return portfolio.code if portfolio else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Action.choices)))
    def get_available_actions(self, flag: Flag) -> list[str]:
        return available_actions(self.context["request"].user, flag)

    @extend_schema_field(PriorityTermSerializer(many=True))
    def get_priority_terms(self, flag: Flag) -> list[dict]:
        return [{"reason": reason, "points": points} for reason, points in priority_terms(flag)]


class NoteSerializer(ModelSerializer):
    author: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Note
        fields = ["id", "flag", "author", "kind", "body", "source", "created_at"]
        read_only_fields = fields


class EventSerializer(ModelSerializer):
    """One entry of the audit trail."""

    actor = serializers.SerializerMethodField(help_text="Username, or the system's label when no person acted.")
    verb_label = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "occurred_at",
            "actor",
            "verb",
            "verb_label",
            "flag",
            "project",
            "indicator",
            "from_status",
            "to_status",
            "data",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    def get_actor(self, event: Event) -> str:
        return event.actor_name

    def get_verb_label(self, event: Event) -> str:
        return verb_label(event.verb)


# The input of each action, built from its row of the transition table (the services re-validate).


class ActionInput(serializers.Serializer):
    """Base of the action inputs: a ``project`` input offers the projects the requesting user may see."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        for field in self.fields.values():
            if isinstance(field, serializers.PrimaryKeyRelatedField) and request is not None:
                field.queryset = projects_visible_to(request.user)


class _Common(TypedDict):
    """The arguments every input's serializer field takes."""

    required: bool
    help_text: str | None


class _Optional(TypedDict, total=False):
    """What an optional text or choice input adds: blank allowed, and its default."""

    allow_blank: bool
    default: str


def _input_field(spec: Input) -> serializers.Field:
    """The serializer field of one input of a transition table."""
    common: _Common = {"required": spec.required, "help_text": spec.help_text or None}
    optional: _Optional
    if spec.kind in (InputKind.TEXT, InputKind.PARAGRAPH):
        optional = {} if spec.required else {"allow_blank": True, "default": ""}
        return CharField(max_length=spec.max_length, **common, **optional)
    if spec.kind == InputKind.CHOICE:
        optional = {} if spec.required else {"allow_blank": True, "default": spec.default}
        return serializers.ChoiceField(choices=spec.choice_class.choices, **common, **optional)
    if spec.kind == InputKind.FUTURE_DATE:
        return serializers.DateField(**common)
    if spec.kind == InputKind.PERIOD:
        return serializers.DateField(allow_null=True, **common)
    if spec.kind == InputKind.NUMBER:
        return DecimalField(max_digits=20, decimal_places=6, allow_null=True, **common)
    if spec.kind == InputKind.USER:
        return UsernameField(allow_null=not spec.required, **common)
    if spec.kind == InputKind.PROJECT:
        return serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(), allow_null=True, **common)
    return serializers.ListField(child=AgencyCodeField(), default=list, max_length=500, **common)


def action_input(transition: Transition) -> type[serializers.Serializer]:
    """The request serializer of one row of a transition table (``SetSeverityInput`` …)."""
    fields = {spec.name: _input_field(spec) for spec in transition.inputs}
    name = "".join(part.title() for part in transition.action.split("_")) + "Input"
    doc = f"The input of “{transition.label.lower()}”." if fields else "No input."
    return type(name, (ActionInput,), {"__doc__": doc, **fields})


ACTION_INPUTS: dict[Action, type[serializers.Serializer]] = {
    action: action_input(row) for action, row in TRANSITIONS.items()
}
# A case raised by hand on an indicator of one's agencies: the indicator, and the input of ``RAISE_INPUTS``.
FlagRaiseSerializer = type(
    "FlagRaiseSerializer",
    (serializers.Serializer,),
    {
        "indicator": serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.select_related("agency")),
        **{spec.name: _input_field(spec) for spec in RAISE_INPUTS},
    },
)


class BulkResultSerializer(serializers.Serializer):
    class Failure(serializers.Serializer):
        id = serializers.IntegerField()
        error = CharField()
        code = serializers.IntegerField(help_text="The HTTP status the single action would have answered.")

    action = serializers.ChoiceField(choices=Action.choices)
    matched = serializers.IntegerField(help_text="How many flags the ids or the filter designate.")
    succeeded = serializers.IntegerField(help_text="How many of them the action changed.")
    succeeded_ids = serializers.ListField(child=serializers.IntegerField())
    failed = Failure(many=True, help_text="Each flag the action was refused for, with the reason.")


def _filter_field(query_filter: django_filters.Filter) -> serializers.Field:
    """The JSON field of one filter of ``FlagFilter`` (a bulk action's ``filter`` object)."""
    common: dict[str, Any] = {"required": False, "help_text": query_filter.extra.get("help_text")}
    if isinstance(query_filter, django_filters.MultipleChoiceFilter):
        return serializers.ListField(child=serializers.ChoiceField(choices=query_filter.extra["choices"]), **common)
    if isinstance(query_filter, django_filters.BooleanFilter):
        return BooleanField(**common)
    if isinstance(query_filter, django_filters.NumberFilter):
        return serializers.IntegerField(min_value=1, max_value=MAX_ID, **common)
    if isinstance(query_filter, django_filters.ChoiceFilter):
        return serializers.ChoiceField(choices=query_filter.extra["choices"], **common)
    return CharField(**common)


class _StrictObject(serializers.Serializer):
    """Refuses keys it does not know (a typo in a bulk action's filter must not widen it to every flag)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown filter."] for name in unknown})
        return super().to_internal_value(data)


# The query parameters of ``GET flags/`` as an object: ``FlagFilter``'s filters, one field each.
BulkFilter = type(
    "BulkFilter",
    (_StrictObject,),
    {
        "__doc__": "The query parameters of GET flags/, as an object: the flags the list selects.",
        **{name: _filter_field(f) for name, f in FlagFilter.base_filters.items()},
    },
)


def bulk_input(action: Action) -> type[serializers.Serializer]:
    """The request of ``POST flags/bulk/`` for one action: the action's own input (its row of the table),
    and the flags — ``ids``, the ``filter`` of ``GET flags/``, both (the named flags the filter selects) or
    neither (nothing)."""
    fields = {
        "action": serializers.ChoiceField(choices=[(action.value, action.label)]),
        "ids": serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=BULK_LIMIT
        ),
        "filter": BulkFilter(required=False),
    }
    name = "Bulk" + ACTION_INPUTS[action].__name__
    return type(name, (ACTION_INPUTS[action],), {"__doc__": bulk_input.__doc__, **fields})


BULK_INPUTS: dict[Action, type[serializers.Serializer]] = {action: bulk_input(action) for action in TRANSITIONS}
