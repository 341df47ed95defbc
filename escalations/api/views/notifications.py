"""``notifications/``: your own, mark them read, your e-mail preference."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from escalations import selectors
from escalations.models import Notification
from escalations.services import notifications

from ..pagination import Pagination
from ..serializers.common import ValidationErrorSerializer
from ..serializers.notifications import (
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
        if request.method == "PATCH":  # a partial update: an empty body changes nothing
            data = PreferenceSerializer(data=request.data, partial=True)
            data.is_valid(raise_exception=True)
            if data.validated_data:
                notifications.notification_preference_set(user=request.user, **data.validated_data)
        return Response({"email_mode": selectors.email_mode_of(request.user)})
