"""Bad input answers 4xx with a JSON error, never a 500 and never half a change: JSON too deep or too large,
not UTF-8, lone surrogates, NaN, a body that is not JSON at all — on the anonymous token endpoint as on a
signed-in action."""

import pytest

from core.permissions import Role
from escalations.models import Event

from ..factories import FlagFactory

API = "/api/v1/"

BODIES = {
    "nested 100,000 deep": b"[" * 100_000,
    "nested 33 deep": b'{"ids": ' + b"[" * 33 + b"]" * 33 + b"}",
    "larger than 2 MiB": b'{"note": "' + b"x" * (2 * 1024 * 1024) + b'"}',
    "not UTF-8": b'{"note": "caf\xe9"}',
    "a lone surrogate": b'{"action": "review", "filter": {"agency": "\\ud800"}}',
    "NaN": b'{"action": "review", "ids": [NaN]}',
    "not JSON": b"{'action': 'review'}",
}


@pytest.fixture
def signed_in(client, make_user, agency):
    lead = make_user(Role.OPS_LEAD)
    FlagFactory(indicator__agency=agency)
    client.force_login(lead)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("path", ["auth/token/", "flags/bulk/"])
def test_a_bad_body_is_a_400_with_a_json_error(signed_in, path, body):
    events = Event.objects.count()
    response = signed_in.post(f"{API}{path}", BODIES[body], content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"] == "application/json" and response.json()["detail"]
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_the_api_reads_json_not_forms(signed_in):
    response = signed_in.post(f"{API}flags/bulk/", {"action": "review", "ids": "1"})
    assert response.status_code == 415 and "Unsupported media type" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("portfolios/", {"code": "PX", "name": 0}, "name"),
        ("agencies/", {"code": 7, "name": "Seven"}, "code"),
        ("check-runs/", {"full": 1}, "full"),
        ("check-runs/", {"full": "yes"}, "full"),
        ("agencies/", {"code": "AX", "name": "X", "portfolio": ""}, "portfolio"),
        ("agencies/", {"code": "AX", "name": "X", "portfolio": 0}, "portfolio"),
        ("rules/", {"name": "R", "kind": "year_over_year", "yellow": "", "red": "10"}, "yellow"),
        ("rules/", {"name": "R", "kind": "year_over_year", "yellow": 5, "red": "10"}, "yellow"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_converted(client, make_user, path, body, field):
    client.force_login(make_user(Role.ADMIN))
    response = client.post(f"{API}{path}", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("since", ["", "last week", "2024-02-30", "9999-01-01", "2024-1-5"])
def test_a_briefing_refuses_a_since_that_is_not_a_day(client, make_user, agency, since):
    client.force_login(make_user(Role.ADMIN))
    response = client.get(f"{API}briefings/{agency.portfolio.code}/", {"since": since})
    assert response.status_code == 400 and "since" in response.json()["fields"]
    assert client.get(f"{API}briefings/{agency.portfolio.code}/", {"since": "2024-02-29"}).status_code == 200


@pytest.mark.django_db
def test_a_method_a_list_does_not_take_is_405_even_when_asking_for_csv(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    response = client.generic("TRACE", f"{API}events/?format=csv")
    assert response.status_code == 405


@pytest.mark.django_db
def test_a_code_already_taken_is_a_409_conflict_naming_the_field(client, make_user, agency):
    client.force_login(make_user(Role.ADMIN))
    response = client.post(f"{API}agencies/", {"code": agency.code, "name": "Another"}, content_type="application/json")
    assert response.status_code == 409 and list(response.json()["fields"]) == ["code"]
    refused = client.post(f"{API}agencies/", {"code": "", "name": "Another"}, content_type="application/json")
    assert refused.status_code == 400  # bad and taken values together: bad input first


@pytest.mark.django_db
def test_a_briefing_since_long_ago_is_written_in_utc(client, make_user, agency):
    client.force_login(make_user(Role.ADMIN))
    response = client.get(f"{API}briefings/{agency.portfolio.code}/", {"since": "0643-06-18"})
    assert (
        response.status_code == 200 and response.json()["since"] == "0643-06-18T04:56:02Z"
    )  # midnight, New York local mean time


@pytest.mark.django_db
def test_an_empty_format_is_refused(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    response = client.get(f"{API}indicators/", {"format": ""})
    assert response.status_code == 400 and "format" in response.json()["fields"]
