"""The admin is for looking things up. Changes to flags, projects and the SLA policy go through the pages and
the API (which call the services and write the audit trail), so flags, signals, escalations, notes, projects
and the SLA policy are read-only here, and events and the audit chain's checkpoints can never be changed or
deleted."""

from contextvars import ContextVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminPasswordChangeForm
from knox.models import AuthToken

from core.admin import PercolateUserAdmin, ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin

from .models import (
    AuditCheckpoint,
    Closure,
    Escalation,
    Event,
    Flag,
    Milestone,
    Note,
    Notification,
    OutboxMessage,
    Project,
    Signal,
    SlaPolicy,
)
from .services import closure_delete, closure_save, password_change, token_revoke


class NoteInline(ReadOnlyInline, admin.TabularInline):
    model = Note
    fields = ("created_at", "author", "kind", "body", "source")
    readonly_fields = fields


class SignalInline(ReadOnlyInline, admin.TabularInline):
    model = Signal
    fields = ("rule", "period", "value", "baseline", "measure", "unit", "severity", "preliminary", "cleared_at")
    readonly_fields = fields


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
class SlaPolicyAdmin(ReadOnlyAdmin):
    """Read-only: the SLA page changes the policy through ``sla_policy_update`` (an audit event)."""

    list_display = ("__str__", "review_days_red", "review_days_yellow", "decision_days", "lead_grace_days")


@admin.register(Closure)
class ClosureAdmin(ServiceAdmin):
    """Closures (not business days for the deadlines set from then on), added, changed and removed through
    ``closure_save`` / ``closure_delete``, each with its event."""

    list_display = ("date", "name")
    date_hierarchy = "date"
    fields = ("date", "name")

    def save_model(self, request, obj, form, change):
        saved = closure_save(
            actor=request.user, closure=obj if change else None, date=form.cleaned_data["date"], name=obj.name
        )
        obj.pk = saved.pk

    def delete_through(self, request, obj):
        closure_delete(actor=request.user, closure=obj)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "title", "reason", "read_at", "emailed_at")
    list_filter = ("reason",)
    search_fields = ("user__username", "title")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """The side effects owed and delivered: a failed one (out of attempts) is listed with its last error, for a
    person to look into; only the dispatcher changes these rows."""

    list_display = ("id", "kind", "state", "attempts", "created_at", "next_attempt_at", "delivered_at", "last_error")
    list_filter = ("kind", ("delivered_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("key", "last_error")
    date_hierarchy = "created_at"


# Who is changing a password in the admin: Django's admin builds the form without the request.
_admin_actor: ContextVar = ContextVar("admin_actor")


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "Change password" form, saved through ``password_change``: the same event, and the user's
    API tokens and other sessions revoked, as when they change it on their own page."""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        password_change(user=self.user, password=password, actor=_admin_actor.get())
        return self.user


# core's user admin (roles read-only), with the password form saved through the service.
User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(PercolateUserAdmin):
    change_password_form = ServicePasswordChangeForm

    def user_change_password(self, request, id, form_url=""):
        reset = _admin_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _admin_actor.reset(reset)


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """API tokens, by user and expiry. A token is made only by signing in (the token itself is shown once,
    to whoever signed in); deleting one here revokes it through the service, with its event."""

    list_display = ("user", "created", "expiry")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = readonly_fields = ("user", "created", "expiry")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        token_revoke(token=obj, actor=request.user, reason="revoked in the admin")

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            token_revoke(token=token, actor=request.user, reason="revoked in the admin")
