"""The whole life of a flag across roles, driven only through the API as a new user would drive it."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from core.permissions import Role

from ..factories import FlagFactory, IndicatorFactory, MeasurementFactory
from .conftest import API


@pytest.mark.django_db
def test_flag_life_through_the_api(make_user, agency):
    make_user(Role.LIAISON, agencies=[agency], username="maria")
    make_user(Role.OPS_LEAD, username="lead")
    make_user(Role.DEPUTY_MAYOR, portfolios=[agency.portfolio], username="dmo")
    make_user(Role.PROJECT_MANAGER, username="pm")
    make_user(Role.AUDITOR, username="audit")
    indicator = IndicatorFactory(agency=agency, name="Missed collections (%)")
    MeasurementFactory(indicator=indicator)
    flag = FlagFactory(indicator=indicator)

    def sign_in(username):
        response = APIClient().post(f"{API}auth/token/", {"username": username, "password": "pw"}, format="json")
        assert response.status_code == 200, response.content
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return api

    lead = sign_in("lead")
    me = lead.get(f"{API}me/").json()
    assert me["roles"] == ["ops_lead"]

    # The ops lead finds the flag in the open queue and starts the review.
    queue = lead.get(f"{API}flags/", {"open": "true", "agency": agency.code}).json()
    assert [row["id"] for row in queue["results"]] == [flag.pk]
    assert "review" in queue["results"][0]["available_actions"]
    reviewed = lead.post(f"{API}flags/{flag.pk}/review/", {}, format="json")
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["status"] == "in_review"
    assert reviewed.json()["assignee"] == "lead"

    # The agency's liaison adds what the agency said.
    liaison = sign_in("maria")
    note = liaison.post(
        f"{API}flags/{flag.pk}/notes/",
        {"body": "Two trucks out of service since May", "kind": "agency_intel", "source": "call with DSNY CoS"},
        format="json",
    )
    assert note.status_code == 201, note.content

    # The lead escalates, recommending a project.
    escalated = lead.post(
        f"{API}flags/{flag.pk}/escalate/",
        {"summary": "Collections slipping", "recommendation": "Make it a project", "urgency": "high"},
        format="json",
    )
    assert escalated.status_code == 200, escalated.content
    assert escalated.json()["status"] == "escalated"

    # The portfolio's deputy mayor's office sends it back with a question; the liaison answers and
    # escalates again.
    deputy = sign_in("dmo")
    returned = deputy.post(f"{API}flags/{flag.pk}/return/", {"question": "Is it the fleet?"}, format="json")
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == "in_review"
    answer = {"body": "Yes: 2 of 12 trucks", "kind": "answer"}
    assert liaison.post(f"{API}flags/{flag.pk}/notes/", answer, format="json").status_code == 201
    again = {"summary": "Fleet shortage confirmed", "recommendation": "Project"}
    assert liaison.post(f"{API}flags/{flag.pk}/escalate/", again, format="json").status_code == 200

    # The deputy mayor's office converts it to a new project owned by the project manager.
    assert deputy.get(f"{API}flags/{flag.pk}/").json()["available_actions"] == [
        "return",
        "delegate",
        "convert",
        "note",
    ]
    converted = deputy.post(f"{API}flags/{flag.pk}/convert/", {"title": "Fleet recovery", "owner": "pm"}, format="json")
    assert converted.status_code == 200, converted.content
    project_id = converted.json()["project"]

    # The project manager runs the project and completes it; that resolves the flag.
    pm = sign_in("pm")
    assert (
        pm.post(f"{API}projects/{project_id}/milestones/", {"title": "Trucks repaired"}, format="json").status_code
        == 201
    )
    assert pm.patch(f"{API}projects/{project_id}/", {"status": "active"}, format="json").status_code == 200
    done = pm.patch(
        f"{API}projects/{project_id}/",
        {"status": "completed", "outcome": "Collections back on schedule"},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"
    assert lead.get(f"{API}flags/{flag.pk}/").json()["status"] == "resolved"

    # The auditor reads every step in the audit log and exports it.
    auditor = sign_in("audit")
    events = auditor.get(f"{API}events/", {"flag": flag.pk}).json()["results"]
    assert [(event["verb"], event["actor"]) for event in events] == [
        ("flag.reviewed", "lead"),
        ("flag.noted", "maria"),
        ("flag.escalated", "lead"),
        ("flag.returned", "dmo"),
        ("flag.noted", "maria"),
        ("flag.escalated", "maria"),
        ("flag.converted", "dmo"),
        ("flag.resolved", f"project #{project_id} completed by pm"),
    ]
    project_events = auditor.get(f"{API}events/", {"project": project_id}).json()["results"]
    assert [event["verb"] for event in project_events] == [
        "flag.converted",
        "project.milestone_added",
        "project.updated",
        "project.completed",
    ]
    export = auditor.get(f"{API}events/", {"flag": flag.pk, "format": "csv"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [row["verb"] for row in rows] == [event["verb"] for event in events]
    assert rows[2]["actor"] == "lead"

    # The indicator's history tells the story in time order.
    history = auditor.get(f"{API}indicators/{indicator.pk}/history/").json()
    assert [f["id"] for f in history["flags"]] == [flag.pk]
    assert [e["decision"] for e in history["escalations"]] == ["returned", "project"]
    assert history["escalations"][0]["agency_intelligence"] == "Two trucks out of service since May"
    assert history["escalations"][0]["decision_note"] == "Is it the fleet?"
    assert history["projects"][0]["outcome"] == "Collections back on schedule"
    verbs = [event["verb"] for event in history["timeline"]]
    assert verbs == [
        "flag.reviewed",
        "flag.noted",
        "flag.escalated",
        "flag.returned",
        "flag.noted",
        "flag.escalated",
        "flag.converted",
        "project.milestone_added",
        "project.updated",
        "project.completed",
        "flag.resolved",
    ]
