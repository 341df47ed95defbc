"""The deputy mayor's briefing."""

import datetime as dt

from rest_framework import serializers

from ..fields import CharField
from .flags import FlagSerializer
from .history import EscalationSerializer


class MeasurementPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.DecimalField(max_digits=20, decimal_places=6)


class NoteBriefSerializer(serializers.Serializer):
    author = CharField(source="author.username")
    body = CharField()
    # DRF's metaclass takes declared fields out of the class body: this does not replace ``Field.source``.
    source = CharField()  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class BriefingItemSerializer(serializers.Serializer):
    escalation = EscalationSerializer()
    flag = FlagSerializer(source="escalation.flag")
    series = MeasurementPointSerializer(many=True)
    intelligence = NoteBriefSerializer(many=True)


class BriefingSerializer(serializers.Serializer):
    portfolio = CharField(source="portfolio.code")
    # In UTC: a day centuries back would otherwise get New York's local mean time offset (-04:56:02).
    since = serializers.DateTimeField(default_timezone=dt.UTC)
    awaiting = BriefingItemSerializer(many=True)
    decided = EscalationSerializer(many=True)
