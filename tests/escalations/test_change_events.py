"""Every change outside the flag lifecycle is one audit event with its old and new values: what an auditor
reads on the audit log."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from core.permissions import Role, roles_of
from escalations.audit_trail import audit_chain_verify, verb_label
from escalations.models import Event
from escalations.services import sla_policy_update
from indicators.models import Indicator, RuleKind, ThresholdRule
from indicators.services import (
    agency_save,
    import_file,
    indicator_tune,
    indicator_update,
    portfolio_save,
    role_grant,
    role_revoke,
    rule_delete,
    rule_save,
)

from ..factories import AgencyFactory, IndicatorFactory, PortfolioFactory, UserFactory
from ..indicators.conftest import FY16_SAMPLE, replace_cell

pytestmark = pytest.mark.django_db
API = "/api/v1/"


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, username="admin")


@pytest.fixture
def client_for():
    """client_for(user) → an API client signed in as ``user``."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _one_new_event(before: int) -> Event:
    """The one event written since ``before`` events (fails when there are more or none)."""
    (event,) = Event.objects.order_by("id")[before:]
    return event


def test_a_liaison_setting_a_tolerance_is_recorded_with_old_and_new_values(client_for, liaison, agency):
    indicator = IndicatorFactory(agency=agency)
    before = Event.objects.count()
    response = client_for(liaison).patch(
        f"{API}indicators/{indicator.pk}/",
        {"tolerance": "100", "tolerance_rationale": "Seasonal"},
        format="json",
    )
    assert response.status_code == 200
    event = _one_new_event(before)
    assert (event.verb, event.actor, event.indicator) == ("indicator.tuned", liaison, indicator)
    assert event.data["changes"]["tolerance"] == {"old": None, "new": "100"}
    assert event.data["changes"]["tolerance_rationale"] == {"old": "", "new": "Seasonal"}
    assert verb_label(event.verb) == "Tolerance or weight changed"
    # The same values again change nothing and write nothing.
    client_for(liaison).patch(f"{API}indicators/{indicator.pk}/", {"tolerance": "100"}, format="json")
    indicator_tune(indicator=indicator, actor=liaison, public_impact_weight=5)
    event = _one_new_event(before + 1)
    assert event.data["changes"] == {"public_impact_weight": {"old": 1, "new": 5}}


def test_critical_and_target_changes_are_recorded(admin):
    indicator = IndicatorFactory(critical=False, target=None)
    before = Event.objects.count()
    indicator_update(indicator=indicator, actor=admin, critical=True, target=Decimal("95"), target_kind="numeric")
    event = _one_new_event(before)
    assert (event.verb, event.indicator) == ("indicator.updated", indicator)
    assert event.data["changes"] == {
        "critical": {"old": False, "new": True},
        "target": {"old": None, "new": "95"},
        "target_kind": {"old": "none", "new": "numeric"},
    }


def test_rules_created_changed_switched_and_deleted_are_recorded(client_for, lead):
    before = Event.objects.count()
    created = client_for(lead).post(
        f"{API}rules/", {"name": "Drop", "kind": "year_over_year", "yellow": "5", "red": "10"}, format="json"
    )
    assert created.status_code == 201
    event = _one_new_event(before)
    assert (event.verb, event.actor, event.data["name"]) == ("rule.created", lead, "Drop")
    assert event.data["changes"]["red"] == {"old": None, "new": "10"}
    rule = ThresholdRule.objects.get(pk=created.json()["id"])

    client_for(lead).patch(f"{API}rules/{rule.pk}/", {"red": "12"}, format="json")
    assert _one_new_event(before + 1).data["changes"] == {"red": {"old": "10", "new": "12"}}
    rule_save(actor=lead, rule=rule, active=False)
    assert _one_new_event(before + 2).verb == "rule.deactivated"
    rule_save(actor=lead, rule=rule, active=True)
    assert _one_new_event(before + 3).verb == "rule.activated"
    rule_delete(actor=lead, rule=rule)
    deleted = _one_new_event(before + 4)
    assert deleted.verb == "rule.deleted" and deleted.data["changes"]["name"] == {"old": "Drop", "new": None}
    assert audit_chain_verify() is None


def test_a_refused_rule_writes_nothing(lead):
    before = Event.objects.count()
    with pytest.raises(Exception, match="red threshold"):
        rule_save(actor=lead, name="Bad", kind=RuleKind.YEAR_OVER_YEAR, yellow=20, red=10)
    assert Event.objects.count() == before and not ThresholdRule.objects.filter(name="Bad").exists()


def test_agencies_and_portfolios_are_recorded(client_for, admin):
    before = Event.objects.count()
    portfolio = portfolio_save(actor=admin, code="PX", name="Deputy Mayor X")
    event = _one_new_event(before)
    assert (event.verb, event.data["changes"]["code"]) == ("portfolio.created", {"old": None, "new": "PX"})
    portfolio_save(actor=admin, portfolio=portfolio, name="Deputy Mayor Y")
    assert _one_new_event(before + 1).data["changes"] == {"name": {"old": "Deputy Mayor X", "new": "Deputy Mayor Y"}}

    agency = AgencyFactory(portfolio=PortfolioFactory(code="OLD"))
    before = Event.objects.count()
    response = client_for(admin).patch(f"{API}agencies/{agency.pk}/", {"portfolio": "PX"}, format="json")
    assert response.status_code == 200
    event = _one_new_event(before)
    assert (event.verb, event.data["changes"]) == ("agency.updated", {"portfolio": {"old": "OLD", "new": "PX"}})
    agency_save(actor=admin, code="NEW", name="New agency")
    assert _one_new_event(before + 1).verb == "agency.created"


def test_role_grants_and_revocations_are_recorded(agency):
    user = UserFactory(username="maria")
    before = Event.objects.count()
    role_grant(username="maria", role=Role.LIAISON, agencies=[agency.code])
    event = _one_new_event(before)
    assert (event.verb, event.actor, event.actor_label, event.data["user"]) == (
        "role.granted",
        None,
        "manage.py grant",
        "maria",
    )
    assert event.data["changes"] == {
        "roles": {"old": [], "new": ["liaison"]},
        "agencies": {"old": [], "new": [agency.code]},
    }
    role_grant(username="maria", role=Role.LIAISON, agencies=[agency.code])  # already held: nothing
    assert Event.objects.count() == before + 1

    call_command("grant", "maria", "liaison", "--revoke")
    event = _one_new_event(before + 1)
    assert (event.verb, event.data["changes"]) == (
        "role.revoked",
        {"roles": {"old": ["liaison"], "new": []}, "agencies": {"old": [agency.code], "new": []}},
    )
    assert roles_of(user) == set() and not user.agencies.exists()


def test_revoking_part_of_a_scope_keeps_the_role(agency, other_agency):
    user = UserFactory(username="maria")
    role_grant(username="maria", role=Role.LIAISON, agencies=[agency.code, other_agency.code])
    before = Event.objects.count()
    role_revoke(username="maria", role=Role.LIAISON, agencies=[other_agency.code])
    event = _one_new_event(before)
    both = sorted([agency.code, other_agency.code])
    assert event.data["changes"] == {"agencies": {"old": both, "new": [agency.code]}}
    assert roles_of(user) == {"liaison"}


def test_the_sla_policy_is_recorded(client, lead):
    before = Event.objects.count()
    client.force_login(lead)
    form = {"review_days_red": 3, "review_days_yellow": 5, "decision_days": 5, "lead_grace_days": 1}
    assert client.post("/sla/", form).status_code == 302
    event = _one_new_event(before)
    assert (event.verb, event.actor, event.data["changes"]) == (
        "sla.policy_updated",
        lead,
        {"review_days_red": {"old": 2, "new": 3}},
    )
    sla_policy_update(actor=lead, review_days_red=3)  # the same again: nothing
    assert Event.objects.count() == before + 1


def test_an_import_is_one_event_with_its_counts_hash_and_restated_values(django_user_model):
    user = django_user_model.objects.create(username="analyst")
    before = Event.objects.count()
    first = import_file(file_name=FY16_SAMPLE.name, content=FY16_SAMPLE.read_bytes())
    event = _one_new_event(before)
    assert (event.verb, event.actor, event.actor_label) == ("import.completed", None, "manage.py")
    assert event.data["sha256"] == first.batch.sha256 and len(event.data["sha256"]) == 64
    assert event.data["counts"] == first.counts and event.data["restated"] == []

    content = replace_cell(FY16_SAMPLE.read_bytes(), 3, "fy15", "9,700")
    second = import_file(file_name="restated.csv", content=content, user=user)
    event = _one_new_event(before + 1)
    indicator = Indicator.objects.get(external_id="MMR-311-311-online-site-visits-000")
    assert (event.actor, event.data["batch"], event.data["counts"]["measurements_restated"]) == (
        user,
        second.batch.pk,
        1,
    )
    assert event.data["restated"] == [
        {
            "indicator": indicator.pk,
            "external_id": indicator.external_id,
            "period": "2014-07-01",
            "old": "9656",
            "new": "9700",
        }
    ]
    # The identical file again, and a dry run, change nothing and write no event.
    import_file(file_name="again.csv", content=content)
    import_file(file_name="dry.csv", content=content + b"\n", dry_run=True)
    assert Event.objects.count() == before + 2


def test_an_import_names_the_indicators_whose_definition_changed():
    import_file(file_name=FY16_SAMPLE.name, content=FY16_SAMPLE.read_bytes())
    before = Event.objects.count()
    content = replace_cell(FY16_SAMPLE.read_bytes(), 4, "critical", "TRUE")  # 311 mobile app contacts
    import_file(file_name="critical.csv", content=content)
    (changed,) = _one_new_event(before).data["indicators_changed"]
    indicator = Indicator.objects.get(pk=changed["indicator"])
    assert (indicator.name, indicator.critical) == ("311 mobile app contacts (000)", True)
    assert changed["changes"] == {"critical": {"old": False, "new": True}}


def test_a_check_run_started_by_hand_is_recorded(client_for, lead):
    before = Event.objects.count()
    response = client_for(lead).post(f"{API}check-runs/", {"full": True, "as_of": "2024-01-15"}, format="json")
    assert response.status_code == 201
    (event,) = Event.objects.order_by("id")[before:]  # nothing to detect: the run's own event only
    assert (event.verb, event.actor, event.data) == (
        "check_run.started",
        lead,
        {"run": response.json()["id"], "as_of": "2024-01-15", "mode": "full", "shards": event.data["shards"]},
    )


def test_a_sign_in_lock_out_is_recorded_once_with_username_and_address(client):
    UserFactory(username="maria", password="right-password", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):  # locked out, then two more tries while locked
        client.post("/admin/login/", {"username": "maria", "password": "wrong"})
    event = Event.objects.get(verb="signin.locked_out")
    assert (event.actor, event.actor_label, event.data) == (None, "sign-in", {"username": "maria", "ip": "127.0.0.1"})
    assert audit_chain_verify() is None


def test_the_audit_log_shows_who_changed_what_from_what_to_what(client, auditor, lead, agency):
    role_grant(username=auditor.username, role=Role.LIAISON, agencies=[agency.code])
    rule = rule_save(actor=lead, name="Drop", kind=RuleKind.YEAR_OVER_YEAR, yellow=5, red=10)
    rule_save(actor=lead, rule=rule, red=12)
    client.force_login(auditor)
    granted = client.get("/audit/", {"verb": "role.granted"}).content.decode()
    assert "Role granted" in granted and f"set the agencies to {agency.code}" in granted
    changed = client.get("/audit/", {"verb": "rule.updated"}).content.decode()
    assert "Rule changed" in changed
    assert "lead changed the rule “Drop”: changed the red threshold from 10 to 12." in changed


def test_a_change_nobody_records_is_refused_and_an_unknown_verb_too():
    from core.audit import changed, record_change
    from escalations.services.events import change_record

    changed.disconnect(dispatch_uid="escalations.change_record")
    try:
        with pytest.raises(RuntimeError, match="no audit receiver"):
            record_change(verb="rule.created", data={})
    finally:
        changed.connect(change_record, dispatch_uid="escalations.change_record")
    with pytest.raises(ValueError, match="not an audit verb"):
        record_change(verb="rule.renamed", data={})
    assert not Event.objects.exists()
