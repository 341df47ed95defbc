"""Schemathesis against the generated OpenAPI schema, inside the suite: every operation, signed in as an
admin and as a liaison, with generated (valid and invalid) input. No response may be a server error or
disagree with the schema: valid input is accepted, invalid input refused. The example count is bounded so the
whole run takes a minute or two."""

import datetime as dt
import functools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from core.permissions import Role
from escalations import services
from indicators.models import CheckRun

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, MeasurementFactory, RuleFactory

EXAMPLES = 6
# Every check schemathesis runs by default: no server error, and no response that contradicts the schema —
# the status, the content type and the body; valid input accepted, invalid input refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]
# Operations whose schema-valid input can still be refused (400) for what a schema cannot say. There the
# suite checks everything but "valid input accepted"; the other operations must accept every valid request.
REFUSED_BY_MEANING = {
    "POST /api/v1/agencies/": "the portfolio must exist",
    "PATCH /api/v1/agencies/{id}/": "the portfolio must exist",
    "POST /api/v1/imports/": "the file must be an MMR or PMMR table",
    "POST /api/v1/rules/": "red lies beyond yellow, the parameters fit the kind, the scope's agency exists",
    "POST /api/v1/flags/": "the indicator exists in the user's agencies; an unmeasured period needs a value",
    "POST /api/v1/flags/bulk/": "the assignee, project manager or project must exist",
    "PATCH /api/v1/rules/{id}/": "red lies beyond yellow, the parameters fit the kind, the scope's agency exists",
    "PATCH /api/v1/indicators/{id}/": "a tolerance comes with its rationale",
    "POST /api/v1/indicators/{id}/merge/": "the merged indicator exists, of the same agency and frequency",
    "POST /api/v1/check-runs/": "the date lies between the earliest measured period and a week from today",
}


@pytest.fixture(params=[Role.ADMIN, Role.LIAISON])
def fuzz_user(request, make_user, agency):
    """Something to act on: flags in and out of the liaison's scope, a project, a rule, a check run."""
    lead = make_user(Role.OPS_LEAD, username="fuzz-lead")
    make_user(Role.PROJECT_MANAGER, username="fuzz-pm")
    user = make_user(request.param, agencies=[agency] if request.param == Role.LIAISON else [], username="fuzzer")
    elsewhere = AgencyFactory()
    for target in (agency, elsewhere):
        indicator = IndicatorFactory(agency=target)
        MeasurementFactory(indicator=indicator)
        flag = FlagFactory(indicator=indicator)
        services.flag_review(flag=flag, actor=lead)
        services.flag_convert(flag=flag, actor=lead, title=f"Project for {target.code}")
        other = IndicatorFactory(agency=target)
        MeasurementFactory(indicator=other)
        FlagFactory(indicator=other, signal__rule=RuleFactory())
    CheckRun.objects.create(as_of=dt.date(2026, 1, 1))
    return user


def _cases() -> list:
    """Every operation of the schema ("METHOD /path"), with valid input and, where it takes any input,
    with invalid input too. The schema is generated here without a request."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator(api_version="1").get_schema(request=None, public=True)["paths"]
    cases = []
    for path, item in paths.items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            cases.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label}-valid"))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label}-invalid"))
    return cases


@functools.cache
def _application():
    return get_wsgi_application()


def wsgi_app(environ, start_response):
    """Percolate's WSGI application as the test's database transaction allows: Django closes "old"
    connections around each request, which inside the test's transaction would close the connection
    that holds it (on PostgreSQL). Django's own test client disconnects that handler the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = _application()(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
        return [body]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(django_db_setup, django_db_blocker):
    # Served by the app itself, as a client would fetch it (the request touches the session tables).
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)


@pytest.fixture
def auth_header(fuzz_user):
    _, token = AuthToken.objects.create(user=fuzz_user)
    return {"Authorization": f"Token {token}"}


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "mode"), _cases())
def test_api_conforms_to_its_schema(label, mode, api_schema, auth_header):
    operation = api_schema.find_operation_by_label(label)
    checks = [check for check in CHECKS if not (label in REFUSED_BY_MEANING and check is positive_data_acceptance)]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(headers=auth_header, checks=checks)

    call()
