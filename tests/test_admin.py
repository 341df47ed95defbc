"""The Django admin changes nothing the audit trail records except through the services, and validates as
the API does: what an administrator sees and gets."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from escalations.models import Closure, Event, SlaPolicy
from indicators.models import Indicator, Measurement, RuleKind, ThresholdRule

from .factories import AgencyFactory, IndicatorFactory, MeasurementFactory, RuleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _rule_form(rule: ThresholdRule, **changes) -> dict:
    values = {
        "name": rule.name,
        "kind": rule.kind,
        "yellow": rule.yellow,
        "red": rule.red,
        "params": "{}",
        "critical_factor": rule.critical_factor,
        "scope": rule.scope,
        "agency": "",
        "indicator": "",
        "preliminary": rule.preliminary,
        "active": "on" if rule.active else "",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value != ""}


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"yellow": "20", "red": "10"}, "red", "The red threshold is at least the yellow one."),
        ({"critical_factor": "-3"}, "critical_factor", "Must be greater than 0."),
        ({"params": '{"n": "abc"}'}, "params", "Unknown parameter 'n'"),
    ],
)
def test_an_invalid_rule_is_refused_with_a_form_error_and_nothing_changes(admin_client, changes, field, problem):
    rule = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=Decimal(5), red=Decimal(10))
    events = Event.objects.count()
    response = admin_client.post(f"/admin/indicators/thresholdrule/{rule.pk}/change/", _rule_form(rule, **changes))
    assert response.status_code == 200  # the form again, with its error
    assert problem in " ".join(response.context["adminform"].form.errors[field])
    rule.refresh_from_db()
    assert (rule.yellow, rule.red, rule.critical_factor, rule.params) == (5, 10, Decimal("0.5"), {})
    assert Event.objects.count() == events


def test_a_rule_changed_in_the_admin_writes_one_event_with_old_and_new_values(admin_client):
    rule = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=Decimal(5), red=Decimal(10))
    response = admin_client.post(f"/admin/indicators/thresholdrule/{rule.pk}/change/", _rule_form(rule, red="15"))
    assert response.status_code == 302
    event = Event.objects.get(verb="rule.updated")
    assert event.actor.username == "root"
    assert event.data["changes"] == {"red": {"old": "10", "new": "15"}}
    assert ThresholdRule.objects.get(pk=rule.pk).red == 15


def test_a_rule_deleted_in_the_admin_writes_one_event(admin_client):
    rule = RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=Decimal(5), red=Decimal(10))
    response = admin_client.post(f"/admin/indicators/thresholdrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not ThresholdRule.objects.filter(pk=rule.pk).exists()
    event = Event.objects.get(verb="rule.deleted")
    assert event.data["name"] == rule.name and event.data["changes"]["red"] == {"old": "10", "new": None}


def test_a_measurement_cannot_be_changed_in_the_admin(admin_client):
    measurement = MeasurementFactory(value=Decimal("5.22"))
    url = f"/admin/indicators/measurement/{measurement.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="value"' not in page.content  # shown, not editable
    admin_client.post(url, {"indicator": measurement.indicator_id, "period": "2022-07-01", "value": "6.5"})
    assert Measurement.objects.get(pk=measurement.pk).value == Decimal("5.22")
    assert admin_client.get("/admin/indicators/measurement/add/").status_code == 403
    deleted = admin_client.post(f"/admin/indicators/measurement/{measurement.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert Measurement.objects.filter(pk=measurement.pk).exists()


def test_an_indicator_tuned_in_the_admin_goes_through_the_service(admin_client):
    indicator = IndicatorFactory()
    url = f"/admin/indicators/indicator/{indicator.pk}/change/"
    form = {
        "tolerance": "100",
        "tolerance_rationale": "",
        "public_impact_weight": "3",
        "agency": indicator.agency_id,
        "target_kind": indicator.target_kind,
        "desired_direction": indicator.desired_direction,
        "active": "on",
        "measurements-TOTAL_FORMS": "0",
        "measurements-INITIAL_FORMS": "0",
    }
    refused = admin_client.post(url, form)
    assert "Say why this indicator gets its own tolerance." in str(refused.context["adminform"].form.errors)
    assert Indicator.objects.get(pk=indicator.pk).tolerance is None
    assert admin_client.post(url, {**form, "tolerance_rationale": "Seasonal", "critical": "on"}).status_code == 302
    tuned, updated = Event.objects.get(verb="indicator.tuned"), Event.objects.get(verb="indicator.updated")
    assert tuned.indicator == updated.indicator == indicator
    assert tuned.data["changes"]["tolerance"] == {"old": None, "new": "100"}
    assert updated.data["changes"] == {"critical": {"old": False, "new": True}}


def test_an_agency_changed_in_the_admin_writes_one_event(admin_client):
    agency = AgencyFactory(name="Old name")
    response = admin_client.post(
        f"/admin/indicators/agency/{agency.pk}/change/",
        {"code": agency.code, "name": "New name", "budget_number": "", "portfolio": agency.portfolio_id},
    )
    assert response.status_code == 302
    event = Event.objects.get(verb="agency.updated")
    assert event.data["changes"] == {  # a renamed agency keeps its old name as an alias, in the same event
        "name": {"old": "Old name", "new": "New name"},
        "aliases": {"old": [], "new": ["Old name"]},
    }


def test_roles_and_the_sla_policy_are_read_only_in_the_admin(admin_client):
    user = UserFactory(username="maria")
    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b'name="groups"' not in page.content and b'name="is_superuser"' not in page.content
    role = Group.objects.get(name="auditor")
    assert admin_client.post(f"/admin/auth/group/{role.pk}/change/", {"name": "x"}).status_code == 403
    assert admin_client.get("/admin/escalations/slapolicy/add/").status_code == 403
    policy = SlaPolicy.objects.create()
    form = {"review_days_red": 9, "review_days_yellow": 9, "decision_days": 9, "lead_grace_days": 9}
    assert admin_client.post(f"/admin/escalations/slapolicy/{policy.pk}/change/", form).status_code == 403
    assert SlaPolicy.objects.get().review_days_red == 2


def test_closures_are_added_changed_and_removed_in_the_admin_through_the_service(admin_client):
    added = admin_client.post("/admin/escalations/closure/add/", {"date": "2026-12-24", "name": "Snow day"})
    assert added.status_code == 302
    closure = Closure.objects.get()
    changed = admin_client.post(
        f"/admin/escalations/closure/{closure.pk}/change/", {"date": "2026-12-24", "name": "Blizzard"}
    )
    assert changed.status_code == 302
    removed = admin_client.post(f"/admin/escalations/closure/{closure.pk}/delete/", {"post": "yes"})
    assert removed.status_code == 302 and not Closure.objects.exists()
    events = list(Event.objects.filter(verb__startswith="closure.").order_by("id"))
    assert [(e.verb, e.actor.username) for e in events] == [
        ("closure.saved", "root"),
        ("closure.saved", "root"),
        ("closure.deleted", "root"),
    ]
    assert events[0].data["changes"] == {
        "date": {"old": None, "new": "2026-12-24"},
        "name": {"old": None, "new": "Snow day"},
    }
    assert events[1].data["changes"] == {"name": {"old": "Snow day", "new": "Blizzard"}}
    assert events[2].data["name"] == "Blizzard"


def test_a_second_closure_on_the_same_day_is_refused_with_a_form_error(admin_client):
    Closure.objects.create(date="2026-12-24", name="Snow day")
    response = admin_client.post("/admin/escalations/closure/add/", {"date": "2026-12-24", "name": "Again"})
    assert response.status_code == 200 and b"already exists" in response.content
    assert Closure.objects.count() == 1 and not Event.objects.exists()
