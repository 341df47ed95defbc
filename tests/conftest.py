"""Shared fixtures. ``REQUIRE_SERVICES=1`` (CI) turns every "service absent" skip into a failure."""

import importlib
import os

import pytest
from django.conf import settings

from indicators.roles import Role
from indicators.services import role_grant

from .factories import AgencyFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool) -> None:
    """Skip the calling test when ``name`` is absent, or fail it when CI requires every service."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{name} is not available")


def pytest_sessionstart(session):
    if REQUIRE_SERVICES and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError("REQUIRE_SERVICES=1 but DATABASE_URL does not point at PostgreSQL")


# The data migrations' rows (roles, portfolios, agencies, default rules). A transactional test empties every
# table when it ends, and pytest-django's serialized rollback does not reliably put them back under xdist, so
# each transactional test starts by running the same migration code again (it is idempotent).
REFERENCE_DATA = [
    ("indicators.migrations.0002_reference_data", "load"),
    ("indicators.migrations.0003_default_rules", "seed"),
]


def restore_reference_data() -> None:
    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        restore_reference_data()


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def other_agency(db):
    return AgencyFactory()


@pytest.fixture
def make_user(db):
    """make_user(role, agencies=[...], portfolios=[...]) → a user with that role and scope."""

    def make(*roles: str, agencies=(), portfolios=(), username: str | None = None):
        user = UserFactory(**({"username": username} if username else {}))
        for role in roles:
            role_grant(
                username=user.username,
                role=role,
                agencies=[a.code for a in agencies],
                portfolios=[p.code for p in portfolios],
            )
        return user

    return make


@pytest.fixture
def liaison(make_user, agency):
    return make_user(Role.LIAISON, agencies=[agency], username="liaison")


@pytest.fixture
def lead(make_user):
    return make_user(Role.OPS_LEAD, username="lead")


@pytest.fixture
def deputy(make_user, agency):
    return make_user(Role.DEPUTY_MAYOR, portfolios=[agency.portfolio], username="deputy")


@pytest.fixture
def pm(make_user):
    return make_user(Role.PROJECT_MANAGER, username="pm")


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDITOR, username="auditor")
