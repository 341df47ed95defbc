"""An indicator's history: what Operations did about it."""

from typing import TYPE_CHECKING

from rest_framework import serializers

from escalations.models import Decision, Escalation
from indicators.models import Portfolio

from ..fields import ModelSerializer
from .flags import EventSerializer, FlagSerializer, IndicatorRefSerializer
from .projects import ProjectSerializer

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class EscalationSerializer(ModelSerializer):
    portfolio: "serializers.SlugRelatedField[Portfolio]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    escalated_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    decision = serializers.ChoiceField(
        choices=Decision.choices, allow_blank=True, read_only=True, help_text="Empty while awaiting a decision."
    )

    class Meta:
        model = Escalation
        fields = [
            "id",
            "flag",
            "portfolio",
            "escalated_by",
            "escalated_at",
            "summary",
            "agency_intelligence",
            "recommendation",
            "urgency",
            "decision",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class HistorySerializer(serializers.Serializer):
    """``timeline`` holds every event about the indicator, its flags and their projects, oldest first;
    ``flags``, ``escalations`` (with the deputy mayors' decisions) and ``projects`` give the objects."""

    indicator = IndicatorRefSerializer()
    flags = FlagSerializer(many=True)
    escalations = EscalationSerializer(many=True)
    projects = ProjectSerializer(many=True)
    timeline = EventSerializer(many=True)
