"""``notifications/`` (your own, mark read, e-mail preference) and ``briefings/{portfolio}/``."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from escalations import reports, selectors
from escalations.models import Notification
from escalations.services import notifications
from escalations.views.followup import briefing_portfolio, briefing_since

from ..pagination import Pagination
from ..serializers.common import ValidationErrorSerializer
from ..serializers.followup import (
    BriefingSerializer,
    MarkReadInput,
    MarkReadResult,
    NotificationSerializer,
    PreferenceSerializer,
)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first. Nobody sees anybody else's."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return selectors.notifications_of(self.request.user)

    @extend_schema(
        summary="Mark notifications read",
        request=MarkReadInput,
        responses={200: MarkReadResult, 400: ValidationErrorSerializer},
    )
    @action(detail=False, methods=["post"])
    def read(self, request):
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications.notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response({"marked": marked})

    @extend_schema(
        summary="Your e-mail preference",
        methods=["GET"],
        responses={200: PreferenceSerializer},
    )
    @extend_schema(
        summary="Choose immediate e-mails, a daily digest or none",
        methods=["PATCH"],
        request=PreferenceSerializer,
        responses={200: PreferenceSerializer, 400: ValidationErrorSerializer},
    )
    @action(detail=False, methods=["get", "patch"])
    def preference(self, request):
        if request.method == "PATCH":
            data = PreferenceSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            notifications.notification_preference_set(user=request.user, **data.validated_data)
        return Response({"email_mode": selectors.email_mode_of(request.user)})


class BriefingView(APIView):
    """The deputy mayor's briefing for a portfolio: escalations awaiting a decision (with the series, the
    agency intelligence and the recommendation) and the decisions of the last seven days (or since
    ``?since=YYYY-MM-DD``). The portfolio's own office, ops leads, auditors and admins may read it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A portfolio's briefing",
        parameters=[OpenApiParameter("since", str, description="YYYY-MM-DD; default: seven days ago")],
        responses={200: BriefingSerializer},
    )
    def get(self, request, code: str):
        portfolio = briefing_portfolio(request.user, code)
        briefing = reports.briefing_for(user=request.user, portfolio=portfolio, since=briefing_since(request))
        return Response(BriefingSerializer(briefing, context={"request": request}).data)
