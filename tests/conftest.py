"""Shared fixtures. ``REQUIRE_SERVICES=1`` (CI) turns every "service absent" skip into a failure."""

import datetime as dt
import importlib
import os
from decimal import Decimal

import pytest
from django.conf import settings

from core.permissions import Role
from indicators.detection import evaluate
from indicators.detection.classify import add_months
from indicators.detection.rules import STEP_MONTHS
from indicators.models import Frequency, Measurement, ThresholdRule
from indicators.services import role_grant

from .factories import AgencyFactory, IndicatorFactory, RuleFactory, UserFactory

FAR_FUTURE = dt.date(2100, 1, 1)

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
    ("indicators.migrations.0005_data_quality_rules", "seed"),
    ("indicators.migrations.0009_calibrated_default_rules", "seed"),
    ("indicators.migrations.0013_agency_aliases_and_indicator_identity", "seed"),
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
        user = UserFactory.create(**({"username": username} if username else {}))
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


@pytest.fixture
def series(db):
    """series([v0, v1, None, v3, …], **indicator fields) → an indicator whose consecutive periods (from
    FY2016, or ``start``) hold those values; ``None`` leaves a period missing."""

    def make(values, *, start=dt.date(2015, 7, 1), frequency=Frequency.ANNUAL, **fields):
        indicator = IndicatorFactory(frequency=frequency, **fields)
        step = STEP_MONTHS[frequency]
        Measurement.objects.bulk_create(
            Measurement(indicator=indicator, period=add_months(start, i * step), value=Decimal(str(v)))
            for i, v in enumerate(values)
            if v is not None
        )
        return indicator

    return make


@pytest.fixture
def only_rule(db):
    """only_rule(kind, yellow, red, **fields) → the one active rule (the seeded defaults are switched off)."""

    def make(kind, yellow, red, **fields):
        ThresholdRule.objects.update(active=False)
        return RuleFactory(kind=kind, yellow=Decimal(str(yellow)), red=Decimal(str(red)), **fields)

    return make


@pytest.fixture
def detect(db):
    """detect(as_of) → ({indicator id: severity}, evaluated pairs) over every indicator."""

    def run(as_of=FAR_FUTURE):
        evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=as_of)
        return {b.indicator_id: b for b in evaluation.breaches}, evaluation.pairs()

    return run


@pytest.fixture
def run_check(db):
    """run_check(as_of, full=True) → the finished CheckRun, its shards executed in this process the way
    ``manage.py run_checks`` does."""
    from escalations.services.checks import check_run_start, check_shard_execute
    from indicators.models import CheckRunMode

    def run(as_of=FAR_FUTURE, *, full: bool = True, shard_size: int | None = None):
        mode = CheckRunMode.FULL if full else CheckRunMode.INCREMENTAL
        start = check_run_start(mode=mode, as_of=as_of, dispatch=False, shard_size=shard_size)
        for shard in start.run.shards.order_by("number"):
            check_shard_execute(shard_id=shard.pk)
        start.run.refresh_from_db()
        return start.run

    return run


@pytest.fixture
def broker_at():
    """broker_at(url) → this test process publishes to the broker at ``url`` (not eagerly), as a web process with
    REDIS_URL does; the app's configuration and connections are restored afterwards."""
    names = ("broker_url", "task_always_eager")
    from config.celery import app

    saved = {name: app.conf[name] for name in names}

    def point(url: str) -> None:
        app.conf.update(broker_url=url, task_always_eager=False)
        # Forget the pooled connections to the previous broker (what Celery does in a forked child).
        app._after_fork()  # type: ignore[attr-defined]

    yield point
    app.conf.update(saved)
    app._after_fork()
