"""A milestone through the API: added with an owner, edited (title, due date, owner), marked done."""

import pytest

from escalations import services
from escalations.models import Event

from .conftest import API

pytestmark = pytest.mark.django_db


def test_the_api_edits_a_milestone_and_names_its_owner(client_for, pm, liaison):
    project = services.project_create(actor=pm, title="T")
    api = client_for(pm)
    created = api.post(f"{API}projects/{project.pk}/milestones/", {"title": "Hire", "owner": "pm"}, format="json")
    assert created.status_code == 201 and created.json()["owner"] == "pm"
    url = f"{API}projects/{project.pk}/milestones/{created.json()['id']}/"
    changed = api.patch(url, {"title": "Hire two", "owner": "liaison", "due": "2027-01-31"}, format="json")
    assert changed.status_code == 200
    assert {k: changed.json()[k] for k in ("title", "owner", "due", "done")} == {
        "title": "Hire two", "owner": "liaison", "due": "2027-01-31", "done": False
    }  # fmt: skip
    assert api.patch(url, {"done": True}, format="json").json()["done"] is True
    assert api.patch(url, {"done": False, "title": "Undo"}, format="json").status_code == 409
    assert api.patch(url, {"owner": "nobody-such"}, format="json").status_code == 400
    assert Event.objects.filter(verb="project.milestone_updated").count() == 1
