"""What the Django admin may change, for every app: nothing that the audit trail records unless through the
service that records it. ``ReadOnlyAdmin`` is the admin of a model written only by services (events,
measurements, runs…). Roles are Django groups: the admin shows a user's roles but grants and revokes
them only through ``manage.py grant`` (``indicators.services.role_grant`` / ``role_revoke``, each an audit
event), so groups, permissions and superuser status — which is the administrator role — are read-only here."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest

from .permissions import Capability, may

ROLES_HELP = "Roles are granted and revoked with manage.py grant [--revoke], which records them in the audit trail."


class LookOnly:
    """Look, never touch: the rows are written by services, each with its audit event."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(LookOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    """The admin of a model only services write."""


class ReadOnlyInline(LookOnly):
    """The same for an inline: shown, never added to, changed or deleted."""

    extra = 0
    can_delete = False


class ServiceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Changes allowed only to whoever the service allows (``capability``), written by the service."""

    capability = Capability.CONFIGURE

    def _may(self, request: HttpRequest) -> bool:
        return may(request.user, self.capability)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request) and self._may(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        deletes = type(self).delete_through is not ServiceAdmin.delete_through
        return deletes and super().has_delete_permission(request, obj) and self._may(request)

    def delete_through(self, request: HttpRequest, obj: Any) -> None:
        """Delete ``obj`` through its service; an admin that does not override this deletes nothing."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_through(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_through(request, obj)

    def _changes(self, form: Any, change: bool, fields: tuple[str, ...]) -> dict[str, Any]:
        names = form.changed_data if change else list(form.fields)
        return {name: form.cleaned_data[name] for name in names if name in fields}


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PercolateUserAdmin(UserAdmin):  # type: ignore[type-arg]
    readonly_fields = ("is_superuser", "groups", "user_permissions", "last_login", "date_joined")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            (name, {**options, "description": ROLES_HELP} if str(name) == "Permissions" else options)
            for name, options in fieldsets
        ]


@admin.register(Group)
class RoleAdmin(LookOnly, GroupAdmin):
    """The roles: listed, never changed here."""
