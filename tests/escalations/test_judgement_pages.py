"""Judgement in the UI: the indicator page sets the tolerance and public-impact weight (with a preview of what
the current data would flag), the rules page edits scope and parameters as form fields, and a case raised by
hand records the period and value it is about."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from escalations import services
from escalations.models import Event, Flag
from indicators.models import Frequency, Indicator, ThresholdRule

from ..factories import IndicatorFactory, MeasurementFactory, RuleFactory

pytestmark = pytest.mark.django_db


def tune_form(**values) -> dict:
    form = {"tolerance": "", "tolerance_rationale": "", "public_impact_weight": "1"} | values
    return {f"tune-{name}": value for name, value in form.items()}


@pytest.fixture
def slipping(agency):
    """An annual indicator 3 % worse than a year earlier, with one active rule: a year-over-year slip at
    yellow 5 % / red 10 %, which does not flag it — unless a tolerance below 3 % replaces the yellow one."""
    indicator = IndicatorFactory(agency=agency, frequency=Frequency.ANNUAL, external_id="7001")
    MeasurementFactory(indicator=indicator, period=dt.date(2022, 7, 1), value=Decimal("100"))
    MeasurementFactory(indicator=indicator, period=dt.date(2023, 7, 1), value=Decimal("97"))
    ThresholdRule.objects.update(active=False)
    RuleFactory(name="Slip on a year earlier", kind="year_over_year", yellow=5, red=10, active=True)
    return indicator


def test_the_agencys_liaison_sets_the_tolerance_with_one_event(client, liaison, slipping):
    client.force_login(liaison)
    page = client.get(reverse("indicator_detail", args=[slipping.pk])).text
    assert 'data-testid="tune-form"' in page and "None: the rules' own thresholds apply" in page
    events = Event.objects.count()
    form = tune_form(tolerance="2.5", tolerance_rationale="Small counts swing", public_impact_weight="4")
    response = client.post(reverse("indicator_tune", args=[slipping.pk]), form, follow=True)
    assert response.status_code == 200 and "Tolerance and public impact saved." in response.text
    assert "2.5% — Small counts swing" in response.text and "4 of 5" in response.text
    assert Event.objects.count() == events + 1
    assert Event.objects.latest("id").verb == "indicator.tuned"
    slipping.refresh_from_db()
    assert (slipping.tolerance, slipping.public_impact_weight) == (Decimal("2.5"), 4)


def test_a_tolerance_without_its_rationale_is_refused_at_the_field(client, liaison, slipping):
    client.force_login(liaison)
    response = client.post(reverse("indicator_tune", args=[slipping.pk]), tune_form(tolerance="2"))
    assert response.status_code == 400
    field = response.text.split('id="id_tune-tolerance_rationale"')[1].split("</div>")[0]
    assert "Say why this indicator gets its own tolerance." in field
    assert Indicator.objects.get(pk=slipping.pk).tolerance is None


@pytest.mark.parametrize("form", [tune_form(tolerance="2", tolerance_rationale="x"), {}, tune_form(tolerance="x")])
def test_another_agencys_liaison_is_refused_with_403_and_sees_the_values_read_only(
    client, make_user, other_agency, slipping, form
):
    stranger = make_user("liaison", agencies=[other_agency])
    client.force_login(stranger)
    page = client.get(reverse("indicator_detail", args=[slipping.pk])).text
    assert 'data-testid="tune-form"' not in page and "1 of 5" in page
    events = Event.objects.count()
    assert client.post(reverse("indicator_tune", args=[slipping.pk]), form).status_code == 403
    assert Event.objects.count() == events and Indicator.objects.get(pk=slipping.pk).tolerance is None


def test_the_preview_shows_what_the_tolerance_would_flag_and_saves_nothing(client, lead, slipping):
    client.force_login(lead)
    events = Event.objects.count()
    response = client.post(reverse("indicator_tune", args=[slipping.pk]), {**tune_form(tolerance="2"), "preview": "1"})
    assert response.status_code == 200
    preview = response.text.split('data-testid="tolerance-preview"')[1].split("</section>")[0]
    assert "flag this indicator <strong>green</strong>" in preview
    assert 'data-testid="tolerance-preview-proposed">yellow<' in preview
    row = preview.split("<td>Slip on a year earlier</td>")[1].split("</tr>")[0]
    assert "No breach" in row and "Yellow <strong>(changes)</strong>" in row
    assert 'value="2"' in response.text  # the form keeps what was typed
    assert Event.objects.count() == events and Indicator.objects.get(pk=slipping.pk).tolerance is None


# -- the rules page: scope and parameters as form fields -----------------------------------------------------


def rule_form(rule, **values) -> dict:
    form = {
        "name": rule.name,
        "yellow": str(rule.yellow),
        "red": str(rule.red),
        "critical_factor": str(rule.critical_factor),
        "scope": rule.scope,
        "preliminary": rule.preliminary,
        "active": "on",
    }
    return form | values


def field_html(page: str, name: str) -> str:
    """The ``<div class="field">`` of one form field."""
    return (
        page.split(f'id="id_{name}"')[0].rsplit('<div class="field', 1)[1]
        + page.split(f'id="id_{name}"')[1].split("</div>")[0]
    )


def test_the_rules_page_edits_scope_and_each_parameter_as_its_own_field(client, lead, agency):
    rule = ThresholdRule.objects.filter(kind="unusual_change", scope="all").first()
    url = reverse("rule_edit", args=[rule.pk])
    client.force_login(lead)
    page = client.get(url).text
    assert "params" not in page.split("<form", 1)[1].split('name="csrfmiddlewaretoken"')[0]  # no raw JSON
    window = field_html(page, "param_window")
    assert "Window (periods)" in window and "blank: the default, 36." in window
    assert "σ for yellow (σ)" in field_html(page, "param_sigma_yellow")
    assert "Yellow threshold (%)" in page
    assert f'<option value="{agency.code}">{agency.code} — {agency.name}</option>' in page

    events = Event.objects.count()
    form = rule_form(rule, scope="agency", agency=agency.code, indicator="ignored: the scope is an agency")
    form |= {"param_years": "1", "param_recent_months": "3", "param_window": "48", "param_min_points": "3"}
    form |= {"param_sigma_yellow": "2.5", "param_sigma_red": "", "replaces_broader": "on"}  # blank: the default
    response = client.post(url, form, follow=True)
    assert response.status_code == 200 and "Rule saved" in response.text
    rule.refresh_from_db()
    assert (rule.scope, rule.agency, rule.indicator, rule.replaces_broader) == ("agency", agency, None, True)
    assert rule.params == {"years": 1, "recent_months": 3, "window": 48, "min_points": 3, "sigma_yellow": 2.5}
    assert Event.objects.count() == events + 1

    page = client.get(url).text  # the values come back in their fields
    assert 'value="48"' in field_html(page, "param_window") and 'value="2.5"' in field_html(page, "param_sigma_yellow")
    assert 'placeholder="3"' in field_html(page, "param_sigma_red") and 'value="' not in field_html(
        page, "param_sigma_red"
    )
    assert f'<option value="{agency.code}" selected>' in page
    assert "Window 48 periods · Fewest changes 3 changes · σ for yellow 2.5 σ" in client.get(reverse("rule_list")).text


def test_the_rule_form_names_an_indicator_by_its_mmr_id_and_puts_problems_at_their_field(client, lead):
    indicator = IndicatorFactory(external_id="4242")
    rule = ThresholdRule.objects.get(kind="year_over_year")
    url = reverse("rule_edit", args=[rule.pk])
    client.force_login(lead)
    events = Event.objects.count()

    unknown = client.post(url, rule_form(rule, scope="indicator", indicator="nope"))
    assert unknown.status_code == 400 and "No indicator has the MMR ID (or id) “nope”." in field_html(
        unknown.text, "indicator"
    )
    missing = client.post(url, rule_form(rule, scope="agency"))  # rule_problems, through the service
    assert missing.status_code == 400 and "names that agency" in field_html(missing.text, "agency")
    previewed = client.post(url, {**rule_form(rule, scope="agency"), "preview": "1"})  # no preview of a bad rule
    assert previewed.status_code == 400 and "names that agency" in field_html(previewed.text, "agency")
    assert Event.objects.count() == events

    saved = client.post(url, rule_form(rule, scope="indicator", indicator="4242"))
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert (rule.scope, rule.indicator, rule.agency) == ("indicator", indicator, None)
    assert 'value="4242"' in field_html(client.get(url).text, "indicator")


def test_a_parameter_out_of_range_is_refused_at_its_field(client, lead):
    rule = ThresholdRule.objects.filter(kind="unusual_change").first()
    client.force_login(lead)
    response = client.post(reverse("rule_edit", args=[rule.pk]), rule_form(rule, param_years="9"))
    assert response.status_code == 400 and "years must be from 1 to 5." in field_html(response.text, "param_years")
    assert ThresholdRule.objects.get(pk=rule.pk).params == rule.params


# -- a case raised by hand records the period and value it is about ------------------------------------------


@pytest.fixture
def measured(agency):
    """An annual indicator measured for FY2022 (120) and FY2023 (97)."""
    indicator = IndicatorFactory(agency=agency, frequency=Frequency.ANNUAL, external_id="7002")
    MeasurementFactory(indicator=indicator, period=dt.date(2021, 7, 1), value=Decimal("120"))
    MeasurementFactory(indicator=indicator, period=dt.date(2022, 7, 1), value=Decimal("97"))
    return indicator


def test_a_case_raised_by_hand_records_the_latest_period_and_its_value_by_default(client, liaison, measured):
    client.force_login(liaison)
    page = client.get(reverse("indicator_detail", args=[measured.pk])).text
    assert "Blank: the latest measured period, FY2023 (2022-07-01)." in page
    assert "Blank: the value measured for that period (FY2023: 97)." in page
    form = {"severity": "red", "summary": "Matters more than its size says", "period": "", "value": ""}
    response = client.post(reverse("indicator_raise_flag", args=[measured.pk]), form, follow=True)
    flag = Flag.objects.get(origin="manual")
    assert (flag.period, flag.value) == (dt.date(2022, 7, 1), Decimal("97"))
    about = response.text.split('data-testid="raised-about"')[1].split("</p>")[0]
    assert "Raised by hand about FY2023 (2022-07-01): 97." in about


def test_a_case_raised_by_hand_about_an_earlier_period_or_a_value_of_its_own(client, liaison, lead, measured):
    client.force_login(liaison)
    url = reverse("indicator_raise_flag", args=[measured.pk])
    form = {"severity": "yellow", "summary": "The earlier year was already off", "period": "2021-07-01"}
    client.post(url, form)
    flag = Flag.objects.get(origin="manual")
    assert (flag.period, flag.value) == (dt.date(2021, 7, 1), Decimal("120"))
    event = Event.objects.get(flag=flag, verb="flag.created")
    assert (event.data["period"], Decimal(event.data["value"])) == ("2021-07-01", Decimal("120"))

    services.flag_dismiss(flag=flag, actor=liaison, reason_code="other", note="Done")
    unmeasured = client.post(url, {**form, "period": "2019-07-01"})
    assert unmeasured.status_code == 400 and "Nothing was measured for 2019-07-01" in unmeasured.text
    client.post(url, {**form, "period": "2019-07-01", "value": "88.5"})
    flag = Flag.objects.get(origin="manual", status="detected")
    assert (flag.period, flag.value) == (dt.date(2019, 7, 1), Decimal("88.5"))


def test_the_api_raises_a_case_about_a_period_and_value_and_documents_them(client, liaison, measured):
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=liaison)[1]}")
    body = {"indicator": measured.pk, "severity": "red", "summary": "Matters", "period": "2021-07-01", "value": "99.5"}
    response = api.post("/api/v1/flags/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["period"], Decimal(response.json()["value"])) == ("2021-07-01", Decimal("99.5"))
    assert api.post("/api/v1/flags/", {**body, "value": "lots"}, format="json").status_code == 400

    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    request = schema["paths"]["/api/v1/flags/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    properties = schema["components"]["schemas"][request["$ref"].rsplit("/", 1)[1]]["properties"]
    assert "latest measured period" in properties["period"]["description"]
    assert properties["period"]["format"] == "date" and properties["period"]["nullable"]
    assert "measured for that period" in properties["value"]["description"]
    flag = schema["components"]["schemas"]["Flag"]["properties"]
    assert "the period the case is about" in flag["period"]["description"]
