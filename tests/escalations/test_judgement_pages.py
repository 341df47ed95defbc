"""Judgement in the UI: the indicator page sets the tolerance and public-impact weight (with a preview of what
the current data would flag), the rules page edits scope and parameters as form fields, and a case raised by
hand records the period and value it is about."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from escalations.models import Event
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
