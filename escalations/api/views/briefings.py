"""``briefings/{portfolio}/``: the deputy mayor's briefing of a portfolio, as on its page."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from escalations import reports, selectors
from escalations.filters import YEARS_2_TO_9998

from ..serializers.briefings import BriefingSerializer


class BriefingView(APIView):
    """The deputy mayor's briefing for a portfolio: escalations awaiting a decision (with the series, the
    agency intelligence and the recommendation) and the decisions of the last seven days (or since
    ``?since=YYYY-MM-DD``). The portfolio's own office, ops leads, auditors and admins may read it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A portfolio's briefing",
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "string", "format": "date", "pattern": YEARS_2_TO_9998},
                description="YYYY-MM-DD (years 2 to 9998); default: seven days ago",
            )
        ],
        responses={200: BriefingSerializer},
    )
    def get(self, request, code: str):
        portfolio = selectors.portfolio_for_briefing(request.user, code)
        since = reports.briefing_since(request.query_params.get("since"))
        briefing = reports.briefing_for(user=request.user, portfolio=portfolio, since=since)
        return Response(BriefingSerializer(briefing, context={"request": request}).data)
