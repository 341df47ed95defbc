"""Projects and their milestones."""

from typing import TYPE_CHECKING

from rest_framework import serializers

from escalations.models import Flag, Milestone, Project, ProjectStatus
from indicators.models import Agency

from ..fields import BooleanField, CharField, ModelSerializer
from .common import AgencyCodeField, UsernameField

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class MilestoneSerializer(ModelSerializer):
    done = serializers.SerializerMethodField()
    owner: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Milestone
        fields = ["id", "title", "due", "owner", "done", "done_at"]
        read_only_fields = fields

    def get_done(self, milestone: Milestone) -> bool:
        return milestone.done_at is not None


class ProjectSerializer(ModelSerializer):
    owner: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    agencies: "serializers.SlugRelatedField[Agency]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    flags: "serializers.PrimaryKeyRelatedField[Flag]" = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "description",
            "owner",
            "status",
            "agencies",
            "flags",
            "start_date",
            "target_date",
            "outcome",
            "created_at",
            "completed_at",
            "milestones",
        ]
        read_only_fields = fields


class ProjectInput(serializers.Serializer):
    """A new project (POST) or changes to one (PATCH). Completing a project (``status: completed``)
    needs an ``outcome`` and resolves its flags."""

    title = CharField(max_length=300)
    description = CharField(max_length=20000, required=False, allow_blank=True)
    owner = UsernameField(required=False, allow_null=True, help_text="Username of a project manager.")
    agencies = serializers.ListField(child=AgencyCodeField(), required=False, max_length=500)
    start_date = serializers.DateField(required=False, allow_null=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ProjectStatus.choices, required=False, help_text="PATCH only.")
    outcome = CharField(max_length=20000, required=False, allow_blank=True, help_text="PATCH only.")


class MilestoneInput(serializers.Serializer):
    title = CharField(max_length=300)
    due = serializers.DateField(required=False, allow_null=True)
    owner = UsernameField(required=False, allow_null=True, help_text="Username of who sees it through.")


class MilestoneUpdate(serializers.Serializer):
    """Mark a milestone done and/or change its title, due date or owner (an open project's); each change
    present is made, the edit first."""

    done = BooleanField(required=False, help_text="true marks the milestone done (done milestones stay done).")
    title = CharField(max_length=300, required=False)
    due = serializers.DateField(required=False, allow_null=True)
    owner = UsernameField(required=False, allow_null=True, help_text="Username of who sees it through.")
