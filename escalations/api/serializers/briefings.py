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


class BriefingRagCountsSerializer(serializers.Serializer):
    red = serializers.IntegerField(source="counts.red")
    yellow = serializers.IntegerField(source="counts.yellow")
    green = serializers.IntegerField(source="counts.green")
    not_checked = serializers.IntegerField(source="unchecked")
    open_cases = serializers.IntegerField()


class AgencyRagSerializer(BriefingRagCountsSerializer):
    agency = CharField(source="code")
    name = CharField()


class AgeBandSerializer(serializers.Serializer):
    age = CharField(source="label")
    count = serializers.IntegerField()


class BriefingSummarySerializer(serializers.Serializer):
    """The briefing's opening summary, as on the page: the portfolio's indicators by colour (as the dashboard
    counts them) with its agencies worst first, the escalations awaiting a decision by age, the decisions
    taken this month."""

    indicators = BriefingRagCountsSerializer(source="rag")
    agencies = AgencyRagSerializer(source="rag.children", many=True)
    awaiting_by_age = AgeBandSerializer(source="waiting", many=True)
    decisions_this_month = serializers.IntegerField()
    month_start = serializers.DateField()


class BriefingSerializer(serializers.Serializer):
    portfolio = CharField(source="portfolio.code")
    # In UTC: a day centuries back would otherwise get New York's local mean time offset (-04:56:02).
    since = serializers.DateTimeField(default_timezone=dt.UTC)
    awaiting = BriefingItemSerializer(many=True)
    decided = EscalationSerializer(many=True)
    summary = BriefingSummarySerializer()
