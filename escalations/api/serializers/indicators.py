"""Reference data, indicators and their series, rules, check runs and imports."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.permissions import Role, roles_of
from indicators.detection.rules import RULE_PARAMS
from indicators.models import (
    Agency,
    CheckRun,
    ImportBatch,
    ImportUpload,
    ImportUploadStatus,
    Indicator,
    Measurement,
    Portfolio,
    Rag,
    RuleKind,
    RuleScope,
    ThresholdRule,
)
from indicators.selectors import import_upload_progress
from indicators.services.configuration import RULE_FIELDS
from indicators.services.import_writer import import_summary

from ..fields import BooleanField, CharField, DecimalField, ModelSerializer
from .common import AgencyCodeField, CodeField

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PARAMS_HELP = "; ".join(
    f"{kind} {{{', '.join(f'{name}: {p.help} (default {p.default})' for name, p in params.items())}}}"
    for kind, params in RULE_PARAMS.items()
)


class MeSerializer(serializers.Serializer):
    username = CharField()
    name = CharField(source="get_full_name")
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.SerializerMethodField()
    agencies = serializers.SerializerMethodField(help_text="Codes of the agencies you cover as a liaison.")
    portfolios = serializers.SerializerMethodField(help_text="Codes of the portfolios your office serves.")

    def get_roles(self, user) -> list[str]:
        roles = set(roles_of(user)) | ({Role.ADMIN} if user.is_superuser else set())
        return sorted(roles)

    def get_agencies(self, user) -> list[str]:
        return sorted(user.agencies.values_list("code", flat=True))

    def get_portfolios(self, user) -> list[str]:
        return sorted(user.portfolios.values_list("code", flat=True))


class PortfolioSerializer(ModelSerializer):
    agencies: "serializers.SlugRelatedField[Agency]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Portfolio
        fields = ["id", "code", "name", "agencies"]


class AliasListField(serializers.ListField):
    """An agency's aliases as a list of names (written: the list replaces the stored one)."""

    def to_representation(self, data: Any) -> list[str]:
        names = [alias.name for alias in data.all()] if hasattr(data, "all") else list(data)
        return sorted(names, key=str.casefold)


class AgencySerializer(ModelSerializer):
    portfolio = CodeField(slug_field="code", queryset=Portfolio.objects.all(), allow_null=True, required=False)
    aliases = AliasListField(
        child=CharField(max_length=200),
        required=False,
        max_length=100,
        help_text='Other names files give the agency ("3-1-1", "NYC Parks", an old name); imports find an '
        "agency by budget number, code, name or alias, ignoring case, spaces and punctuation. Written, the list "
        "replaces the stored one; a renamed agency keeps its old name and code as aliases.",
    )

    class Meta:
        model = Agency
        fields = ["id", "code", "name", "budget_number", "portfolio", "aliases"]


class IndicatorSerializer(ModelSerializer):
    """An indicator with its latest value, its RAG status — what the latest check measured (red/yellow: its
    worst breaching performance rule; green: none breaches; blank: not checked yet), whatever was decided
    about its case — and, beside it, its latest performance case and that case's triage status."""

    agency = CharField(source="agency.code", read_only=True)
    portfolio = CharField(source="agency.portfolio.code", read_only=True, allow_null=True, default=None)
    rag = serializers.ChoiceField(choices=Rag.choices, allow_blank=True, read_only=True)
    latest_value = DecimalField(max_digits=20, decimal_places=6, read_only=True, allow_null=True)
    latest_period = serializers.DateField(read_only=True, allow_null=True)
    case = serializers.IntegerField(
        source="case_id", read_only=True, allow_null=True, help_text="The latest performance case (open or not)."
    )
    case_status = CharField(read_only=True, allow_null=True, help_text="Its triage status.")
    case_dismiss_reason = CharField(read_only=True, allow_null=True, help_text="Why it was dismissed.")
    merged_into: serializers.PrimaryKeyRelatedField[Indicator] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The indicator this one was merged into (its values and cases are there); null if not merged.",
    )

    class Meta:
        model = Indicator
        fields = [
            "id",
            "external_id",
            "name",
            "agency",
            "portfolio",
            "description",
            "service",
            "goal",
            "unit",
            "measurement_type",
            "frequency",
            "desired_direction",
            "critical",
            "target",
            "target_kind",
            "public_impact_weight",
            "tolerance",
            "tolerance_rationale",
            "active",
            "merged_into",
            "latest_value",
            "latest_period",
            "rag",
            "rag_since",
            "case",
            "case_status",
            "case_dismiss_reason",
        ]
        read_only_fields = [
            name for name in fields if name not in ("tolerance", "tolerance_rationale", "public_impact_weight")
        ]


class IndicatorTuneSerializer(ModelSerializer):
    """What a PATCH may change: the liaison tolerance (percent, with its rationale) and the public-impact
    weight (1–5)."""

    tolerance = DecimalField(max_digits=9, decimal_places=4, min_value=0, allow_null=True, required=False)
    public_impact_weight = serializers.IntegerField(min_value=1, max_value=5, required=False)

    class Meta:
        model = Indicator
        fields = ["tolerance", "tolerance_rationale", "public_impact_weight"]
        extra_kwargs = {"tolerance_rationale": {"max_length": 5000}}


class IndicatorMergeInput(serializers.Serializer):
    merged = serializers.IntegerField(
        min_value=1, help_text="The id of the indicator to merge into this one (it stays, inactive, pointing here)."
    )


class MeasurementSerializer(ModelSerializer):
    class Meta:
        model = Measurement
        fields = ["period", "value", "preliminary", "batch", "updated_at"]


class RuleSerializer(ModelSerializer):
    agency = AgencyCodeField(required=False, allow_null=True, help_text="For scope `agency`: its code.")
    indicator = serializers.PrimaryKeyRelatedField(
        queryset=Indicator.objects.all(), required=False, allow_null=True, help_text="For scope `indicator`."
    )
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    scope = serializers.ChoiceField(choices=RuleScope.choices, required=False)
    yellow = DecimalField(max_digits=12, decimal_places=4, min_value=0)
    red = DecimalField(max_digits=12, decimal_places=4, min_value=0)
    critical_factor = DecimalField(max_digits=6, decimal_places=3, min_value=0, required=False)
    params = serializers.DictField(required=False, help_text=PARAMS_HELP)

    class Meta:
        model = ThresholdRule
        fields = ["id", *RULE_FIELDS, "updated_at"]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"name": {"max_length": 200}}


class CheckRunSerializer(ModelSerializer):
    """A check run. ``flags_opened``/``flags_updated``/``flags_recovered`` count cases."""

    requested_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    progress = serializers.FloatField(read_only=True, help_text="Share of the work done, 0 to 1.")

    class Meta:
        model = CheckRun
        fields = [
            "id",
            "mode",
            "as_of",
            "status",
            "trigger",
            "requested_by",
            "started_at",
            "finished_at",
            "shards_total",
            "shards_done",
            "progress",
            "indicators_evaluated",
            "flags_opened",
            "flags_updated",
            "flags_recovered",
            "error",
        ]
        read_only_fields = fields


class ProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = CharField(allow_null=True)
    message = CharField()


class ImportBatchSerializer(ModelSerializer):
    imported_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    # DRF's metaclass takes declared fields out of the class body: this does not replace ``Serializer.errors``.
    errors = ProblemSerializer(many=True, read_only=True)  # type: ignore[assignment]
    warnings = ProblemSerializer(many=True, read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "file_name",
            "sha256",
            "format",
            "rows_read",
            "indicators_created",
            "indicators_updated",
            "indicators_extended",
            "measurements_created",
            "measurements_restated",
            "measurements_unchanged",
            "errors",
            "warnings",
            "imported_by",
            "imported_at",
        ]
        read_only_fields = fields


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV or JSON file.")
    format = CharField(
        required=False, allow_blank=True, max_length=32, help_text="The file's format; detected when not given."
    )
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Validate and count only.")

    def validate_file(self, file):
        limit = settings.PERCOLATE_IMPORT_MAX_BYTES
        if file.size > limit:
            raise serializers.ValidationError(f"The file is larger than {limit} bytes.")
        return file


class ImportResultSerializer(serializers.Serializer):
    """An accepted import: the batch (none for a dry run), its counts and warnings; ``duplicate_of`` when
    the identical file was imported before (nothing changed)."""

    batch = ImportBatchSerializer(allow_null=True)
    duplicate_of = serializers.IntegerField(allow_null=True)
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
    summary = CharField(help_text='The counts in words: "created 8 indicators, extended 2 existing indicators, …".')
    warnings = ProblemSerializer(many=True)


class ImportRejectedSerializer(serializers.Serializer):
    """400 for a file that cannot be imported: every bad row (nothing was written)."""

    detail = CharField()
    # DRF's metaclass takes declared fields out of the class body: these do not replace ``Serializer.errors``
    # and ``Serializer.fields``.
    errors = ProblemSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Every bad row (a rejected file)."
    )
    warnings = ProblemSerializer(many=True, required=False)
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=CharField()), required=False
    )


class ImportConflictSerializer(serializers.Serializer):
    """409 for a file imported by someone else at the same moment: which import was stored."""

    detail = CharField()
    duplicate_of = serializers.IntegerField(help_text="The import that was stored.")


class ImportQueuedSerializer(serializers.Serializer):
    """202 for a file imported in the background: where to follow it."""

    id = serializers.IntegerField()
    status = CharField(help_text="queued, running, done or failed (done already in the embedded mode).")
    url = CharField(help_text="The background import's URL (also the answer's Location header).")


class ImportUploadSerializer(ModelSerializer):
    """A background import: its status, its progress (rows read of about ``rows_total``) and, once finished,
    its report — when done, what a synchronous import answers (batch, counts, warnings); when failed, its
    errors (``detail``, ``errors``, ``warnings``, as a rejected import's 400)."""

    uploaded_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    rows_done = serializers.SerializerMethodField()
    rows_total = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()

    class Meta:
        model = ImportUpload
        fields = [
            "id",
            "file_name",
            "sha256",
            "size",
            "format",
            "status",
            "rows_done",
            "rows_total",
            "attempts",
            "uploaded_by",
            "uploaded_at",
            "started_at",
            "finished_at",
            "report",
        ]
        read_only_fields = fields

    def get_rows_done(self, upload: ImportUpload) -> int:
        return import_upload_progress(upload)[0]

    def get_rows_total(self, upload: ImportUpload) -> int:
        return import_upload_progress(upload)[1]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_report(self, upload: ImportUpload) -> dict | None:
        if upload.status == ImportUploadStatus.DONE:
            report = upload.report
            return ImportResultSerializer(
                {
                    "batch": upload.batch,
                    "duplicate_of": report.get("duplicate_of"),
                    "dry_run": False,
                    "counts": report.get("counts", {}),
                    "summary": import_summary(report.get("counts", {})),
                    "warnings": report.get("warnings", []),
                }
            ).data
        if upload.status == ImportUploadStatus.FAILED:
            return upload.report
        return None


class CheckRunInput(serializers.Serializer):
    full = BooleanField(default=False, help_text="Re-evaluate every indicator, not only what changed.")
    as_of = serializers.DateField(
        required=False,
        help_text="The day the check is for. Left out: today (in the embedded demo, the date the data runs through).",
    )
