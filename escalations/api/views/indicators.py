"""``indicators/`` (with the series and the history of what Operations did), ``rules/``, ``check-runs/``,
``imports/`` and ``import-uploads/`` (the background imports)."""

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from core.errors import InvalidInput
from core.permissions import Capability
from escalations.filters import IndicatorFilter
from escalations.models import Escalation
from escalations.selectors import events_visible_to, flags_visible_to, indicators_with_status, projects_visible_to
from escalations.services.checks import check_run_start
from escalations.services.indicators import indicator_merge
from indicators import selectors as indicator_selectors
from indicators.models import CheckRunMode
from indicators.services import import_file, import_upload_queue, indicator_tune, rule_save

from ..csv import CsvExportMixin, CSVRenderer
from ..filtering import FilterBackend
from ..pagination import Pagination
from ..permissions import Allows, ReadOnly, operations_permissions
from ..serializers.common import ErrorSerializer, ValidationErrorSerializer
from ..serializers.history import HistorySerializer
from ..serializers.indicators import (
    CheckRunInput,
    CheckRunSerializer,
    ImportBatchSerializer,
    ImportConflictSerializer,
    ImportInput,
    ImportQueuedSerializer,
    ImportRejectedSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    IndicatorMergeInput,
    IndicatorSerializer,
    IndicatorTuneSerializer,
    MeasurementSerializer,
    RuleSerializer,
)
from .flags import CSV_PARAMETER


@extend_schema_view(
    list=extend_schema(summary="Indicators with latest value and RAG status", parameters=[CSV_PARAMETER]),
    retrieve=extend_schema(summary="One indicator"),
    partial_update=extend_schema(
        summary="Set the tolerance or public-impact weight",
        request=IndicatorTuneSerializer,
        responses={200: IndicatorSerializer},
    ),
)
class IndicatorViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = IndicatorSerializer
    permission_classes = [IsAuthenticated & (ReadOnly | Allows(Capability.TUNE_INDICATORS))]
    filter_backends = [FilterBackend]
    filterset_class = IndicatorFilter
    pagination_class = Pagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    http_method_names = ["get", "post", "patch", "head", "options"]
    csv_filename = "indicators.csv"

    def get_queryset(self):
        return indicators_with_status().order_by("agency__code", "external_id")

    def partial_update(self, request, pk=None):
        indicator = self.get_object()
        serializer = IndicatorTuneSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        indicator_tune(indicator=indicator, actor=request.user, **serializer.validated_data)
        return Response(IndicatorSerializer(self.get_queryset().get(pk=indicator.pk)).data)

    @extend_schema(
        summary="Merge another indicator into this one (ops lead)",
        description=(
            "Joins two series that turn out to be one indicator: every value and revision of `merged` moves to "
            "this indicator (where both have a value for a period, this one's stays current and the other's is "
            "kept as a revision), with its cases, rules and breakouts; `merged` stays, inactive, pointing here, "
            "and imports naming it write here. One `indicator.merged` event. 400: not the same agency or "
            "frequency, the same indicator, a breakout of the other; 409: one was merged already, or both have "
            "an open case of the same queue."
        ),
        request=IndicatorMergeInput,
        responses={
            200: IndicatorSerializer,
            400: ValidationErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def merge(self, request, pk=None):
        survivor = self.get_object()
        data = IndicatorMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        merged = indicator_selectors.indicator_by_id(data.validated_data["merged"])
        if merged is None:
            raise InvalidInput({"merged": f"No indicator has the id {data.validated_data['merged']}."})
        indicator_merge(actor=request.user, survivor=survivor, merged=merged)
        return Response(IndicatorSerializer(self.get_queryset().get(pk=survivor.pk)).data)

    @extend_schema(summary="The indicator's series", responses={200: MeasurementSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def measurements(self, request, pk=None):
        indicator = self.get_object()
        return Response(MeasurementSerializer(indicator.measurements.order_by("period"), many=True).data)

    @extend_schema(summary="What Operations did about this indicator", responses={200: HistorySerializer})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def history(self, request, pk=None):
        indicator = self.get_object()
        user = request.user
        flags = list(flags_visible_to(user).filter(indicator=indicator).order_by("detected_at", "id"))
        flag_ids = [flag.pk for flag in flags]
        escalations = (
            Escalation.objects.filter(flag_id__in=flag_ids)
            .select_related("portfolio", "escalated_by", "decided_by")
            .order_by("escalated_at", "id")
        )
        projects = list(
            projects_visible_to(user).filter(flags__in=flag_ids).distinct().prefetch_related("flags").order_by("id")
        )
        timeline = events_visible_to(user).filter(
            Q(indicator=indicator) | Q(flag_id__in=flag_ids) | Q(project_id__in=[p.pk for p in projects])
        )
        history = {
            "indicator": indicator,
            "flags": flags,
            "escalations": escalations,
            "projects": projects,
            "timeline": timeline.order_by("occurred_at", "id"),
        }
        return Response(HistorySerializer(history, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="Threshold rules"),
    create=extend_schema(summary="Add a rule (ops lead, admin)"),
    partial_update=extend_schema(summary="Change a rule (ops lead, admin)"),
)
class RuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = indicator_selectors.rules_all()
    serializer_class = RuleSerializer
    permission_classes = operations_permissions()
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = rule_save(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = rule_save(actor=self.request.user, rule=serializer.instance, **serializer.validated_data)


@extend_schema_view(
    list=extend_schema(summary="Check runs, newest first"),
    retrieve=extend_schema(summary="One run"),
    create=extend_schema(
        summary="Start a check run (ops lead, admin)",
        description=(
            "Incremental by default (the indicators whose data changed since the last successful run; every "
            "indicator when a rule was edited since), `full` re-evaluates every indicator. Always runs, with "
            "today's rule edits and data: 201 with the new run. `as_of` defaults to today (in the embedded demo, "
            "to the date the data runs through). 409: another run is still running. In the embedded mode the "
            "run has finished when the answer comes; otherwise follow its progress on `check-runs/{id}/`."
        ),
        request=CheckRunInput,
        responses={201: CheckRunSerializer, 400: ValidationErrorSerializer, 409: ErrorSerializer},
    ),
)
class CheckRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The nightly (and requested) checks with their progress."""

    queryset = indicator_selectors.check_runs()
    serializer_class = CheckRunSerializer
    pagination_class = Pagination
    permission_classes = operations_permissions()

    def create(self, request, *args, **kwargs):
        data = CheckRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        mode = CheckRunMode.FULL if data.validated_data["full"] else CheckRunMode.INCREMENTAL
        as_of = data.validated_data.get("as_of") or indicator_selectors.check_default_as_of().date
        run = check_run_start(mode=mode, as_of=as_of, requested_by=request.user).run
        run.refresh_from_db()
        return Response(CheckRunSerializer(run).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Imported files, newest first"),
    retrieve=extend_schema(summary="One import"),
    create=extend_schema(
        summary="Import a file (ops lead, admin)",
        description=(
            "All or nothing. A file larger than `PERCOLATE_IMPORT_BACKGROUND_BYTES` (5 MB by default; not a dry "
            "run) is imported in the background: 202 with the background import's `url` (and `Location`), "
            "where its status, progress and report show; 409 when the same file is already queued or running "
            "(`queued_as` names it). Otherwise: 201: imported; 200: a dry run, or the identical file was imported "
            "before (nothing changed); 400: every bad row with its line, column and reason (nothing written); 409: the "
            "same file was being imported by someone else at the same moment and theirs was stored "
            "(`duplicate_of` names it; nothing of this one was written)."
        ),
        request={"multipart/form-data": ImportInput},
        responses={
            201: ImportResultSerializer,
            202: ImportQueuedSerializer,
            200: OpenApiResponse(ImportResultSerializer, description="Dry run, or a file imported before."),
            400: ImportRejectedSerializer,
            409: ImportConflictSerializer,
        },
    ),
)
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = indicator_selectors.import_batches()
    serializer_class = ImportBatchSerializer
    permission_classes = operations_permissions()
    parser_classes = [MultiPartParser]
    pagination_class = Pagination

    def create(self, request):
        serializer = ImportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        dry_run = serializer.validated_data["dry_run"]
        if upload.size > settings.PERCOLATE_IMPORT_BACKGROUND_BYTES and not dry_run:
            return self._queue(request, upload, serializer.validated_data.get("format") or None)
        outcome = import_file(
            file_name=upload.name or "upload",
            content=upload.read(),
            format=serializer.validated_data.get("format") or None,
            user=request.user,
            dry_run=dry_run,
        )
        created = outcome.batch is not None and outcome.duplicate_of is None
        result = {
            "batch": outcome.batch,
            "duplicate_of": outcome.duplicate_of.pk if outcome.duplicate_of else None,
            "dry_run": dry_run,
            "counts": outcome.counts,
            "summary": outcome.summary,
            "warnings": [warning.as_dict() for warning in outcome.warnings],
        }
        return Response(
            ImportResultSerializer(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def _queue(self, request, upload, format: str | None) -> Response:
        """A large file: stored and imported by a worker; the answer says where to follow it."""
        queued = import_upload_queue(
            file_name=upload.name or "upload", content=upload, format=format, user=request.user
        )
        queued.refresh_from_db(fields=["status"])  # in the embedded mode the import has run already
        url = request.build_absolute_uri(reverse("api:import-upload-detail", args=[queued.pk]))
        return Response(
            ImportQueuedSerializer({"id": queued.pk, "status": queued.status, "url": url}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


@extend_schema_view(
    list=extend_schema(summary="Background imports, newest first"),
    retrieve=extend_schema(
        summary="One background import: status, progress and report",
        description=(
            "`status` is queued, running, done or failed; `rows_done` of about `rows_total` rows read so far. "
            "Once done, `report` is what a synchronous import answers (batch, counts, warnings); once failed, "
            "its errors (as a rejected import's 400)."
        ),
    ),
)
class ImportUploadViewSet(viewsets.ReadOnlyModelViewSet):
    """Files larger than ``PERCOLATE_IMPORT_BACKGROUND_BYTES`` posted to ``imports/``, imported by a worker."""

    queryset = indicator_selectors.import_uploads()
    serializer_class = ImportUploadSerializer
    permission_classes = operations_permissions()
    pagination_class = Pagination
