"""The admin of what is measured. It changes nothing the audit trail records except through the services
that record it, validating as the API does:

- rules: added, changed and deleted through ``rule_save`` / ``rule_delete`` (the form checks
  ``detection.rules.rule_problems``, the validation the API and the rules page use);
- indicators: tolerance and weight through ``indicator_tune``, what the indicator is held to (critical, target,
  direction, active) and its agency through ``indicator_update``; the rest comes from imports and is read-only;
- portfolios and agencies: through ``portfolio_save`` / ``agency_save``; who covers them (a liaison's agencies,
  a deputy mayor's office's portfolios) is a role grant (``manage.py grant``), read-only here;
- measurements, revisions, check runs and imports: read-only (a value changes only by importing a file, which
  is recorded and re-checked)."""

import copy

from django import forms
from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin
from core.permissions import Capability

from .detection.rules import rule_problems
from .models import Agency, CheckRun, ImportBatch, Indicator, Measurement, MeasurementRevision, Portfolio, ThresholdRule
from .services import agency_save, indicator_tune, indicator_update, portfolio_save, rule_delete, rule_save
from .services.configuration import (
    AGENCY_FIELDS,
    DEFINITION_FIELDS,
    PORTFOLIO_FIELDS,
    RULE_FIELDS,
    TUNE_FIELDS,
    agency_aliases,
    agency_name_problems,
    tune_problems,
)


def _problems_on_form(form: forms.ModelForm, problems: dict[str, str]) -> None:
    for name, problem in problems.items():
        form.add_error(name if name in form.fields else None, problem)


def _as_entered(form: forms.ModelForm):
    """The form's instance with the entered values, without touching the instance itself."""
    obj = copy.copy(form.instance)
    for name, value in form.cleaned_data.items():
        setattr(obj, name, value)
    return obj


# -- reference data -------------------------------------------------------------------------------------------
class AgencyInline(ReadOnlyInline, admin.TabularInline):
    model = Agency
    fields = ("code", "name", "budget_number")
    readonly_fields = fields
    show_change_link = True


@admin.register(Portfolio)
class PortfolioAdmin(ServiceAdmin):
    capability = Capability.MANAGE_REFERENCE_DATA
    list_display = ("code", "name")
    search_fields = ("code", "name")
    fields = (*PORTFOLIO_FIELDS, "members")
    readonly_fields = ("members",)
    inlines = [AgencyInline]

    def save_model(self, request, obj, form, change):
        saved = portfolio_save(
            actor=request.user,
            portfolio=obj if change else None,
            **self._changes(form, change, PORTFOLIO_FIELDS),
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        """Nothing related is written here (members are granted with ``manage.py grant``)."""


class AgencyForm(forms.ModelForm):
    """The agency with its aliases, one per line, validated as ``agency_save`` validates them."""

    aliases = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Other names files give this agency, one per line (e.g. 3-1-1, NYC Parks, an old name). Imports "
        "find an agency by budget number, code, name or alias, ignoring case, spaces and punctuation; a renamed "
        "agency keeps its old name and code here.",
    )

    class Meta:
        model = Agency
        fields = AGENCY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["aliases"].initial = "\n".join(agency_aliases(self.instance))

    def clean_aliases(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["aliases"].splitlines() if line.strip()]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            entered = copy.copy(self.instance)
            entered.code, entered.name = cleaned.get("code", ""), cleaned.get("name", "")
            _problems_on_form(self, agency_name_problems(entered, cleaned.get("aliases", [])))
        return cleaned


@admin.register(Agency)
class AgencyAdmin(ServiceAdmin):
    capability = Capability.MANAGE_REFERENCE_DATA
    form = AgencyForm
    list_display = ("code", "name", "budget_number", "portfolio", "alias_list")
    list_filter = ("portfolio",)
    search_fields = ("code", "name", "budget_number", "aliases__name")
    fields = (*AGENCY_FIELDS, "aliases", "liaisons")
    readonly_fields = ("liaisons",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_list(self, obj: Agency) -> str:
        return ", ".join(sorted((alias.name for alias in obj.aliases.all()), key=str.casefold))

    def save_model(self, request, obj, form, change):
        changes = self._changes(form, change, (*AGENCY_FIELDS, "aliases"))
        if change and "aliases" in changes and changes["aliases"] == agency_aliases(obj):
            del changes["aliases"]  # only the spelling of the text changed (order, blank lines)
        saved = agency_save(actor=request.user, agency=obj if change else None, **changes)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        """Nothing related is written here (liaisons are granted with ``manage.py grant``)."""


# -- indicators and their data ------------------------------------------------------------------------------------
class MeasurementInline(ReadOnlyInline, admin.TabularInline):
    model = Measurement
    fields = ("period", "value", "preliminary", "batch")
    readonly_fields = fields
    ordering = ("-period",)


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = (*TUNE_FIELDS, *DEFINITION_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            _problems_on_form(self, tune_problems(_as_entered(self)))
        return cleaned


@admin.register(Indicator)
class IndicatorAdmin(ServiceAdmin):
    capability = Capability.MANAGE_REFERENCE_DATA
    form = IndicatorForm
    list_display = ("external_id", "name", "agency", "desired_direction", "critical", "target", "frequency", "active")
    list_filter = ("critical", "desired_direction", "frequency", "target_kind", "active", "agency__portfolio", "agency")
    search_fields = ("external_id", "name", "service", "goal")
    list_select_related = ("agency",)
    readonly_fields = (
        "external_id",
        "merged_into",
        "parent",
        "name",
        "service",
        "goal",
        "description",
        "unit",
        "measurement_type",
        "frequency",
        "rag",
        "rag_since",
        "reported_from",
        "reported_through",
        "unbroken_since",
        "data_changed_at",
    )
    inlines = [MeasurementInline]

    def has_add_permission(self, request, obj=None):
        return False  # indicators come from imports

    def save_model(self, request, obj, form, change):
        tuned = self._changes(form, change, TUNE_FIELDS)
        if tuned:
            indicator_tune(indicator=obj, actor=request.user, **tuned)
        defined = self._changes(form, change, DEFINITION_FIELDS)
        if defined:
            indicator_update(indicator=obj, actor=request.user, **defined)


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdmin):
    list_display = ("indicator", "period", "value", "preliminary", "batch", "updated_at")
    list_filter = ("preliminary",)
    search_fields = ("indicator__external_id", "indicator__name")
    list_select_related = ("indicator", "batch")
    date_hierarchy = "period"


@admin.register(MeasurementRevision)
class MeasurementRevisionAdmin(ReadOnlyAdmin):
    list_display = ("measurement", "old_value", "new_value", "changed_by", "changed_at", "batch")
    search_fields = ("measurement__indicator__external_id",)
    list_select_related = ("measurement__indicator", "changed_by", "batch")


# -- rules ---------------------------------------------------------------------------------------------------------
class RuleForm(forms.ModelForm):
    """The rule as the API validates it: ``rule_problems`` on the entered values."""

    class Meta:
        model = ThresholdRule
        fields = RULE_FIELDS

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            _problems_on_form(self, rule_problems(_as_entered(self)))
        return cleaned


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(ServiceAdmin):
    form = RuleForm
    list_display = ("name", "kind", "yellow", "red", "critical_factor", "scope", "agency", "indicator", "active")
    list_filter = ("kind", "scope", "active")
    search_fields = ("name",)
    raw_id_fields = ("indicator",)

    def save_model(self, request, obj, form, change):
        saved = rule_save(actor=request.user, rule=obj if change else None, **self._changes(form, change, RULE_FIELDS))
        obj.pk = saved.pk

    def delete_through(self, request, obj):
        rule_delete(actor=request.user, rule=obj)


# -- runs and imports ----------------------------------------------------------------------------------------------
@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
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


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
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
