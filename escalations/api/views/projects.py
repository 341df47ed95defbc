"""``projects/`` and their milestones. Project managers and ops leads run them through the project
services; completing a project (``PATCH {"status": "completed", "outcome": …}``) resolves its flags."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.permissions import Capability
from escalations.models import Flag
from escalations.selectors import projects_visible_to
from escalations.services import milestone_add, milestone_complete, milestone_update, project_create, project_update

from ..pagination import Pagination
from ..permissions import Allows, ReadOnly
from ..serializers.common import ConflictSerializer, ValidationErrorSerializer
from ..serializers.projects import (
    MilestoneInput,
    MilestoneSerializer,
    MilestoneUpdate,
    ProjectInput,
    ProjectSerializer,
)

RUNS_PROJECTS = IsAuthenticated & (ReadOnly | Allows(Capability.RUN_PROJECTS))
ERRORS = {400: ValidationErrorSerializer, 409: ConflictSerializer}


@extend_schema_view(
    list=extend_schema(summary="Projects in your scope"),
    retrieve=extend_schema(summary="One project"),
    create=extend_schema(
        summary="Start a project (project manager, ops lead)",
        request=ProjectInput,
        responses={201: ProjectSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a project; completing it resolves its flags",
        request=ProjectInput,
        responses={200: ProjectSerializer, **ERRORS},
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProjectSerializer
    permission_classes = [RUNS_PROJECTS]
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            projects_visible_to(self.request.user)
            .select_related("owner")
            .prefetch_related(
                "agencies", "milestones", Prefetch("flags", queryset=Flag.objects.only("id", "project_id"))
            )
            .order_by("-created_at", "-id")
        )

    def _present(self, project, code=status.HTTP_200_OK) -> Response:
        return Response(ProjectSerializer(self.get_queryset().get(pk=project.pk)).data, status=code)

    def create(self, request):
        serializer = ProjectInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if "status" in values or "outcome" in values:
            raise ValidationError({"status": ["A new project starts as proposed; change its status afterwards."]})
        project = project_create(actor=request.user, **values)
        return self._present(project, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        project = self.get_object()
        serializer = ProjectInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        project_update(project=project, actor=request.user, **serializer.validated_data)
        return self._present(project)

    @extend_schema(summary="The project's milestones", responses={200: MilestoneSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def milestones(self, request, pk=None):
        project = self.get_object()
        return Response(MilestoneSerializer(project.milestones.all(), many=True).data)

    @extend_schema(summary="Add a milestone", request=MilestoneInput, responses={201: MilestoneSerializer, **ERRORS})
    @milestones.mapping.post
    def add_milestone(self, request, pk=None):
        project = self.get_object()
        serializer = MilestoneInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = milestone_add(project=project, actor=request.user, **serializer.validated_data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a milestone or mark it done",
        request=MilestoneUpdate,
        responses={200: MilestoneSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"milestones/(?P<milestone_id>[0-9]{1,18})",
        url_name="milestone",
        pagination_class=None,
    )
    def milestone(self, request, pk=None, milestone_id=None):
        project = self.get_object()
        milestone = get_object_or_404(project.milestones.all(), pk=milestone_id)
        serializer = MilestoneUpdate(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        done = changes.pop("done", None)
        if done is False and milestone.done_at is not None:  # refused before anything is changed
            return Response(
                {"detail": "A milestone that is done stays done.", "status": "done", "available_actions": []},
                status=status.HTTP_409_CONFLICT,
            )
        if changes:
            milestone = milestone_update(milestone=milestone, actor=request.user, **changes)
        if done:
            milestone = milestone_complete(milestone=milestone, actor=request.user)
        return Response(MilestoneSerializer(milestone).data)
