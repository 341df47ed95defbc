"""What a page offers is what the API accepts, for every role — the superuser without a group included, who
holds the administrator role and nothing more.

Flag actions: for each role and each status, the actions the case page offers (its forms) are the API's
``available_actions``, and ``POST /api/v1/flags/{id}/{action}/`` succeeds exactly for those. Beyond the
lifecycle: the "New project" button, a project's status actions, the raise-a-case form, the tolerance form, the
rule editor, "run now", the import page, the queue's bulk actions and the briefings are offered exactly to the
roles whose API call is accepted."""

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.permissions import Role
from escalations import services
from escalations.lifecycle import TRANSITIONS, Action, FlagStatus
from indicators.models import ThresholdRule

from ..factories import FlagFactory, IndicatorFactory, MeasurementFactory
from .conftest import PATHS, perform

API = "/api/v1/"
SUPERUSER = "superuser"
ROLES = [Role.LIAISON, Role.OPS_LEAD, Role.DEPUTY_MAYOR, Role.PROJECT_MANAGER, Role.AUDITOR, Role.ADMIN, SUPERUSER]

# Valid API input for each action (usernames, ISO dates), sent whether or not the action is allowed.
API_INPUT = {
    Action.REVIEW: {},
    Action.ASSIGN: {"assignee": "liaison"},
    Action.SET_SEVERITY: {"severity": "red", "reason": "Matters to the public"},
    Action.MONITOR: {"until": (timezone.localdate() + dt.timedelta(days=30)).isoformat(), "reason": "Next month"},
    Action.RESUME: {},
    Action.DISMISS: {"reason_code": "data_error", "note": "Mis-keyed"},
    Action.ESCALATE: {"summary": "Slipping", "recommendation": "A project"},
    Action.RETURN: {"question": "What does the agency say?"},
    Action.DELEGATE: {"note": "We handle it"},
    Action.CONVERT: {"title": "Fix the backlog"},
    Action.RESOLVE: {"resolution": "Back on track"},
    Action.REOPEN: {"reason": "It came back"},
    Action.NOTE: {"body": "Staffing is short"},
}


@pytest.fixture
def actors(ctx, make_user):
    """The user of each role (liaison and deputy mayor's office in scope of the cases)."""
    superuser = get_user_model().objects.create_superuser("root", password="x")
    return {**{role: ctx[role] for role in ROLES[:5]}, Role.ADMIN: make_user(Role.ADMIN), SUPERUSER: superuser}


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def offered_on_page(client, flag) -> set[str]:
    page = client.get(reverse("flag_detail", args=[flag.pk])).text
    return set(re.findall(rf'action="/flags/{flag.pk}/(\w+)/"', page))


@pytest.mark.parametrize("status", list(FlagStatus))
@pytest.mark.parametrize("role", ROLES)
def test_the_case_page_offers_exactly_the_actions_the_api_accepts(client, ctx, actors, agency, role, status):
    def flag_in_status():
        flag = FlagFactory(indicator__agency=agency)
        for action, by in PATHS[status]:
            flag = perform(action, flag, ctx[by], ctx)
        return flag

    user = actors[role]
    client.force_login(user)
    api = api_for(user)
    flag = flag_in_status()
    offered = offered_on_page(client, flag)
    assert offered == set(api.get(f"{API}flags/{flag.pk}/").json()["available_actions"])
    for action in TRANSITIONS:
        target = flag_in_status()
        response = api.post(f"{API}flags/{target.pk}/{action.value}/", API_INPUT[action], format="json")
        accepted = response.status_code == 200
        assert accepted == (action.value in offered), (role, status, action, response.status_code, response.json())


def _offers(client, url: str, marker: str) -> bool:
    response = client.get(url, follow=True)
    return response.status_code == 200 and marker in response.text


@pytest.mark.parametrize("role", ROLES)
def test_pages_offer_beyond_the_lifecycle_exactly_what_the_api_accepts(client, ctx, actors, agency, role, lead):
    user = actors[role]
    client.force_login(user)
    api = api_for(user)

    # A new project.
    offered = _offers(client, reverse("project_board"), 'href="/projects/new/"')
    assert offered == (api.post(f"{API}projects/", {"title": "New"}, format="json").status_code == 201)

    # A project's status: "Start" on its page ⇔ PATCH {"status": "active"}.
    project = services.project_create(actor=lead, title="Potholes")
    offered = _offers(client, reverse("project_detail", args=[project.pk]), f'action="/projects/{project.pk}/start/"')
    response = api.patch(f"{API}projects/{project.pk}/", {"status": "active"}, format="json")
    assert offered == (response.status_code == 200), response.json()

    # A case raised by hand on an indicator of the agency with none open.
    indicator = IndicatorFactory(agency=agency)
    MeasurementFactory(indicator=indicator)
    offered = _offers(client, reverse("indicator_detail", args=[indicator.pk]), "Raise a case by hand")
    body = {"indicator": indicator.pk, "severity": "red", "summary": "Matters", "period": "2022-07-01", "value": "9"}
    assert offered == (api.post(f"{API}flags/", body, format="json").status_code == 201)

    # An indicator's tolerance and public impact: the form on its page ⇔ PATCH indicators/{id}/.
    offered = _offers(client, reverse("indicator_detail", args=[indicator.pk]), 'data-testid="tune-form"')
    body = {"tolerance": "2", "tolerance_rationale": "Small counts", "public_impact_weight": 3}
    assert offered == (api.patch(f"{API}indicators/{indicator.pk}/", body, format="json").status_code == 200)

    # The rules: the page ⇔ GET, the editor ⇔ PATCH.
    rule = ThresholdRule.objects.order_by("pk").first()
    assert (client.get(reverse("rule_list")).status_code == 200) == (api.get(f"{API}rules/").status_code == 200)
    offered = _offers(client, reverse("rule_list"), f'href="/ops/rules/{rule.pk}/edit/"')
    assert offered == (api.patch(f"{API}rules/{rule.pk}/", {"name": rule.name}, format="json").status_code == 200)

    # "Run now" ⇔ POST check-runs.
    offered = _offers(client, reverse("checkrun_list"), 'action="/checks/run/"')
    assert offered == (api.post(f"{API}check-runs/", {"full": True}, format="json").status_code == 201)

    # The import page ⇔ POST imports (a file with errors is a 400: accepted for reading, refused as data).
    offered = client.get(reverse("import_upload")).status_code == 200
    upload = io.BytesIO(b"nonsense,header\n1,2\n")
    upload.name = "bad.csv"
    assert offered == (api.post(f"{API}imports/", {"file": upload}, format="multipart").status_code != 403)

    # The queue's bulk actions ⇔ POST flags/bulk/ (refused up front with 403 for a role that never may).
    flag = FlagFactory(indicator__agency=agency)
    queue = client.get(reverse("flag_queue"), follow=True).text
    bulk_form = queue.split('id="bulk"', 1)[1] if 'id="bulk"' in queue else ""
    for action in TRANSITIONS:
        offered = f'<option value="{action.value}"' in bulk_form
        response = api.post(f"{API}flags/bulk/", {"action": action.value, "ids": [flag.pk], **API_INPUT[action]})
        assert offered == (response.status_code == 200), (action, response.status_code)

    # The briefing of the agency's portfolio (and the inbox in the header).
    offered = _offers(client, reverse("briefing", args=[agency.portfolio.code]), "<h1")
    assert offered == (api.get(f"{API}briefings/{agency.portfolio.code}/").status_code == 200)
    assert ('href="/inbox/"' in client.get(reverse("dashboard")).text) == (client.get("/inbox/").status_code == 200)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_link_in_the_navigation_opens(role, actors, client):
    client.force_login(actors[role])
    header = client.get(reverse("dashboard")).text.split('<ul class="nav-links">')[1].split("</ul>")[0]
    links = re.findall(r'href="([^"]+)"', header)
    assert reverse("flag_queue") in links
    for link in links:
        response = client.get(link.replace("&amp;", "&"), follow=True)
        assert response.status_code == 200, (role, link, response.status_code)
