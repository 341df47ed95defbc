"""The admin is for looking things up. Changes to flags and projects go through the pages and the API
(which call the services and write the audit trail), so flags, escalations and notes are read-only here and
events and the audit chain's checkpoints can never be changed or deleted."""

from django.contrib import admin

from .models import (
    AuditCheckpoint,
    Closure,
    Escalation,
    Event,
    Flag,
    Milestone,
    Note,
    Notification,
    Project,
    Signal,
    SlaPolicy,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoteInline(admin.TabularInline):
    model = Note
    fields = ("created_at", "author", "kind", "body", "source")
    readonly_fields = fields
    extra = 0

    has_add_permission = ReadOnlyAdmin.has_add_permission
    has_change_permission = ReadOnlyAdmin.has_change_permission
    has_delete_permission = ReadOnlyAdmin.has_delete_permission


class SignalInline(admin.TabularInline):
    model = Signal
    fields = ("rule", "period", "value", "baseline", "measure", "unit", "severity", "preliminary", "cleared_at")
    readonly_fields = fields
    extra = 0

    has_add_permission = ReadOnlyAdmin.has_add_permission
    has_change_permission = ReadOnlyAdmin.has_change_permission
    has_delete_permission = ReadOnlyAdmin.has_delete_permission


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "indicator", "category", "severity", "status", "assignee", "detected_at", "project")
    list_filter = (
        "status",
        "severity",
        "origin",
        "category",
        "signals__rule",
        "indicator__agency__portfolio",
        "indicator__agency",
    )
    search_fields = ("id", "indicator__external_id", "indicator__name", "summary")
    list_select_related = ("indicator", "assignee", "project")
    date_hierarchy = "detected_at"
    inlines = [SignalInline, NoteInline]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("flag", "portfolio", "escalated_by", "escalated_at", "urgency", "decision", "decided_by")
    list_filter = ("decision", "urgency", "portfolio")
    list_select_related = ("flag__indicator", "portfolio", "escalated_by", "decided_by")


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ("title", "due", "done_at")
    readonly_fields = fields
    extra = 0
    has_add_permission = ReadOnlyAdmin.has_add_permission
    has_delete_permission = ReadOnlyAdmin.has_delete_permission


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "owner", "start_date", "target_date", "completed_at")
    list_filter = ("status", "agencies")
    search_fields = ("title", "description", "outcome")
    inlines = [MilestoneInline]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "actor_name", "verb", "flag", "project", "from_status", "to_status")
    list_filter = ("verb",)
    search_fields = ("verb", "flag__id", "indicator__external_id", "actor__username", "actor_label")
    list_select_related = ("actor", "flag", "project")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in Event._meta.fields]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "source", "last_event_id", "event_count", "head_hash")
    readonly_fields = [field.name for field in AuditCheckpoint._meta.fields]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "review_days_red", "review_days_yellow", "decision_days", "lead_grace_days")


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ("date", "name")
    date_hierarchy = "date"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "title", "reason", "read_at", "emailed_at")
    list_filter = ("reason",)
    search_fields = ("user__username", "title")
