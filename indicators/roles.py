"""The roles of Percolate's users. Each role is a Django group of the same name, created by a migration;
scope (which agencies a liaison covers, which portfolio a deputy mayor's office serves) is kept on
``Agency.liaisons`` and ``Portfolio.members``."""

from django.db import models


class Role(models.TextChoices):
    LIAISON = "liaison", "Liaison"
    OPS_LEAD = "ops_lead", "Ops lead"
    DEPUTY_MAYOR = "deputy_mayor", "Deputy mayor's office"
    PROJECT_MANAGER = "project_manager", "Project manager"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


def roles_of(user) -> frozenset[str]:
    """The role names of a user (cached on the user object for the length of a request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_percolate_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._percolate_roles = cached
    return cached
