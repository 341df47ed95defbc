from django.contrib import admin

from .models import Agency, CheckRun, ImportBatch, Indicator, Measurement, MeasurementRevision, Portfolio, ThresholdRule


class AgencyInline(admin.TabularInline):
    model = Agency
    fields = ("code", "name", "budget_number")
    extra = 0
    show_change_link = True


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    filter_horizontal = ("members",)
    inlines = [AgencyInline]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "budget_number", "portfolio")
    list_filter = ("portfolio",)
    search_fields = ("code", "name", "budget_number")
    filter_horizontal = ("liaisons",)


class MeasurementInline(admin.TabularInline):
    model = Measurement
    fields = ("period", "value", "preliminary", "batch")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-period",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "agency", "desired_direction", "critical", "target", "frequency", "active")
    list_filter = ("critical", "desired_direction", "frequency", "target_kind", "active", "agency__portfolio", "agency")
    search_fields = ("external_id", "name", "service", "goal")
    list_select_related = ("agency",)
    raw_id_fields = ("parent",)
    inlines = [MeasurementInline]


@admin.register(Measurement)
class MeasurementAdmin(admin.ModelAdmin):
    list_display = ("indicator", "period", "value", "preliminary", "batch", "updated_at")
    list_filter = ("preliminary",)
    search_fields = ("indicator__external_id", "indicator__name")
    list_select_related = ("indicator", "batch")
    raw_id_fields = ("indicator", "batch")
    date_hierarchy = "period"


@admin.register(MeasurementRevision)
class MeasurementRevisionAdmin(admin.ModelAdmin):
    list_display = ("measurement", "old_value", "new_value", "changed_by", "changed_at", "batch")
    search_fields = ("measurement__indicator__external_id",)
    list_select_related = ("measurement__indicator", "changed_by", "batch")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "yellow", "red", "critical_factor", "scope", "agency", "indicator", "active")
    list_filter = ("kind", "scope", "active")
    search_fields = ("name",)
    raw_id_fields = ("indicator",)


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "mode",
        "as_of",
        "status",
        "started_at",
        "finished_at",
        "indicators_evaluated",
        "flags_opened",
        "flags_updated",
        "flags_recovered",
    )
    list_filter = ("mode", "status")
    readonly_fields = [field.name for field in CheckRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "format",
        "imported_at",
        "imported_by",
        "rows_read",
        "indicators_created",
        "measurements_created",
        "measurements_restated",
    )
    list_filter = ("format",)
    search_fields = ("file_name", "sha256")
    readonly_fields = [field.name for field in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False
