"""Judgement in the browser: a liaison previews and sets an indicator's tolerance on its page, at a phone's
width and a laptop's, without horizontal scrolling or accessibility violations; the rule form shows the
agency or indicator field only when the chosen scope needs it."""

import pytest

from escalations.models import Event
from indicators.models import Indicator, ThresholdRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", [390, 1366])
def test_a_liaison_previews_then_sets_the_tolerance_on_the_indicator_page(session, demo, width):
    indicator = demo["reviewed"].indicator
    visitor = session(bypass_csp=True)  # to inject axe-core
    visitor.page.set_viewport_size({"width": width, "height": 900})
    visitor.sign_in("liaison")
    visitor.go(f"/indicators/{indicator.pk}/")
    page = visitor.page
    page.click("#tune-heading")
    page.fill("#id_tune-tolerance", "0.5")
    page.click("[data-testid=tune-form] button[name=preview]")
    preview = page.wait_for_selector("[data-testid=tolerance-preview]")
    assert "With a tolerance of 0.5% they would flag it" in preview.inner_text()
    assert page.input_value("#id_tune-tolerance") == "0.5"  # what was typed stays
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the preview scrolls sideways at {width} px"
    assert visitor.axe_violations() == []
    assert Indicator.objects.get(pk=indicator.pk).tolerance is None  # a preview saves nothing

    events = Event.objects.count()
    page.fill("#id_tune-tolerance_rationale", "Small monthly counts swing")
    page.select_option("#id_tune-public_impact_weight", "4")
    page.click("[data-testid=tune-form] button:not([name=preview])")
    page.wait_for_selector("text=Tolerance and public impact saved.")
    assert page.inner_text("[data-testid=tolerance]") == "0.5% — Small monthly counts swing"
    assert page.inner_text("[data-testid=public-impact]") == "4 of 5"
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the indicator page scrolls sideways at {width} px"
    assert Event.objects.count() == events + 1


def test_the_rule_form_shows_the_field_the_scope_needs(session, demo):
    rule = ThresholdRule.objects.filter(kind="unusual_change", scope="all").first()
    visitor = session()
    visitor.page.set_viewport_size({"width": 390, "height": 900})
    visitor.sign_in("lead")
    visitor.go(f"/ops/rules/{rule.pk}/edit/")
    page = visitor.page
    assert page.evaluate(NO_HORIZONTAL_SCROLL), "the rule form scrolls sideways at 390 px"
    assert not page.is_visible("#id_agency") and not page.is_visible("#id_indicator")
    page.select_option("#id_scope", "agency")
    assert page.is_visible("#id_agency") and not page.is_visible("#id_indicator")
    page.select_option("#id_scope", "indicator")
    assert page.is_visible("#id_indicator") and not page.is_visible("#id_agency")
    assert page.is_visible("#id_param_window")
