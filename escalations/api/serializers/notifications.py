"""Notifications and the e-mail preference."""

from rest_framework import serializers

from escalations.models import EmailMode, Notification

from ..fields import CharField, ModelSerializer


class NotificationSerializer(ModelSerializer):
    verb = CharField(source="event.verb", read_only=True)
    flag = serializers.IntegerField(source="event.flag_id", read_only=True, allow_null=True)
    project = serializers.IntegerField(source="event.project_id", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "reason", "verb", "flag", "project", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read; all of yours when left out.",
    )


class MarkReadResult(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications changed from unread to read.")


class PreferenceSerializer(serializers.Serializer):
    email_mode = serializers.ChoiceField(choices=EmailMode.choices)
