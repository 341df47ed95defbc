"""``notifications/`` and ``briefings/{portfolio}/``."""

import pytest

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event
from escalations.services.notifications import notifications_create

from .conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalated(flag_in, liaison):
    flag = services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.escalated").pk)
    return flag


def test_notifications_are_your_own_and_can_be_marked_read(client_for, deputy, liaison, escalated):
    mine = client_for(deputy).get(f"{API}notifications/").json()
    assert mine["count"] == 1 and mine["results"][0]["flag"] == escalated.pk and mine["results"][0]["read"] is False
    assert client_for(liaison).get(f"{API}notifications/").json()["count"] == 0
    other = mine["results"][0]["id"]
    assert client_for(liaison).get(f"{API}notifications/{other}/").status_code == 404
    assert client_for(deputy).post(f"{API}notifications/read/", {"ids": [other]}, format="json").json() == {"marked": 1}
    assert client_for(deputy).post(f"{API}notifications/read/", {}, format="json").json() == {"marked": 0}
    assert client_for(deputy).post(f"{API}notifications/read/", {"ids": ["x"]}, format="json").status_code == 400


def test_email_preference(client_for, deputy):
    client = client_for(deputy)
    assert client.get(f"{API}notifications/preference/").json() == {"email_mode": "immediate"}
    assert client.patch(f"{API}notifications/preference/", {"email_mode": "digest"}, format="json").json() == {
        "email_mode": "digest"
    }
    assert client.patch(f"{API}notifications/preference/", {"email_mode": "pigeon"}, format="json").status_code == 400


def test_briefing_json(client_for, deputy, liaison, escalated, agency, other_agency):
    briefing = client_for(deputy).get(f"{API}briefings/{agency.portfolio.code}/").json()
    assert [item["flag"]["id"] for item in briefing["awaiting"]] == [escalated.pk]
    assert briefing["awaiting"][0]["escalation"]["recommendation"] == "r"
    assert client_for(deputy).get(f"{API}briefings/{other_agency.portfolio.code}/").status_code == 404
    assert client_for(liaison).get(f"{API}briefings/{agency.portfolio.code}/").status_code == 404
