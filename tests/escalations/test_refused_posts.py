"""A page post refused for the person's role answers 403 — whatever was typed, valid or not — and changes
nothing, like the API."""

import pytest

from escalations import services
from escalations.models import Event, Flag, Project, SlaPolicy
from indicators.models import CheckRun

from ..factories import FlagFactory, IndicatorFactory

pytestmark = pytest.mark.django_db

VALID_SLA = {"review_days_red": 9, "review_days_yellow": 9, "decision_days": 9, "lead_grace_days": 9}


@pytest.mark.parametrize("form", [VALID_SLA, {}, {"review_days_red": "x"}])
def test_an_auditor_posting_the_sla_policy_gets_403(client, auditor, form):
    client.force_login(auditor)
    events = Event.objects.count()
    assert client.post("/sla/", form).status_code == 403
    assert SlaPolicy.current().review_days_red == 2 and Event.objects.count() == events


@pytest.mark.parametrize("form", [{"as_of": "2024-01-15"}, {"as_of": "not a date"}])
def test_an_auditor_starting_a_check_gets_403(client, auditor, form):
    client.force_login(auditor)
    assert client.post("/checks/run/", form).status_code == 403
    assert not CheckRun.objects.exists()


def test_an_auditor_acting_on_a_case_gets_403(client, auditor, agency):
    flag = FlagFactory(indicator__agency=agency)
    client.force_login(auditor)
    events = Event.objects.count()
    assert client.post(f"/flags/{flag.pk}/review/", {}).status_code == 403
    assert client.post(f"/flags/{flag.pk}/dismiss/", {"reason_code": "nonsense"}).status_code == 403
    assert client.post("/flags/bulk/", {"action": "review", "ids": [flag.pk]}).status_code == 403
    assert Flag.objects.get().status == "detected" and Event.objects.count() == events


def test_an_auditor_raising_a_case_gets_403(client, auditor, agency):
    indicator = IndicatorFactory(agency=agency)
    client.force_login(auditor)
    assert client.post(f"/indicators/{indicator.pk}/raise/", {}).status_code == 403
    assert client.post(f"/indicators/{indicator.pk}/raise/", {"severity": "red", "summary": "x"}).status_code == 403
    assert not Flag.objects.exists()


def test_a_liaison_acting_on_a_project_gets_403(client, liaison, pm):
    project = services.project_create(actor=pm, title="Fix the backlog")
    client.force_login(liaison)
    assert client.post(f"/projects/{project.pk}/start/", {}).status_code == 403
    assert Project.objects.get().status == project.status


def test_a_refused_status_is_still_a_conflict_not_a_refusal(client, liaison, agency):
    """The role may take the action, the case's status does not allow it: 409, as before."""
    flag = FlagFactory(indicator__agency=agency)
    services.flag_dismiss(flag=flag, actor=liaison, reason_code="data_error", note="Mis-keyed")
    client.force_login(liaison)
    assert client.post(f"/flags/{flag.pk}/review/", {}).status_code == 409
