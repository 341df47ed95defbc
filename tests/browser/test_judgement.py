"""Judgement in the browser, at a phone's width (390 px) and a laptop's (1,366 px), without horizontal scrolling
or accessibility violations: a liaison previews and sets an indicator's tolerance on its page; the rule form
shows the agency or indicator field only when the chosen scope needs it and each parameter as its own field;
a case raised by hand records the period and the value it is about."""

import pytest

from escalations.models import Event, Flag
from indicators.models import Indicator, Measurement, ThresholdRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", [390, 1366])
def test_a_liaison_previews_then_sets_the_tolerance_on_the_indicator_page(session, demo, width):
    indicator = demo["reviewed"].indicator
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
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


@pytest.mark.parametrize("width", [390, 1366])
def test_every_rule_and_all_it_says_is_in_view_on_the_rules_page(session, demo, width):
    """On a laptop the rules are a table; on a phone each is a card with every field labelled (the table's eleven
    columns scrolled sideways in their box and made an unusual-change rule's row about 280 px tall)."""
    rule = ThresholdRule.objects.filter(kind="unusual_change").first()
    visitor = session(width=width)
    visitor.sign_in("lead")
    visitor.go("/ops/rules/")
    page = visitor.page
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the rules page scrolls sideways at {width} px"
    rows = page.locator("table.rules tbody tr[data-rule]")
    assert rows.count() == ThresholdRule.objects.count()
    card = page.locator(f"tr[data-rule='{rule.pk}']")
    viewport = page.viewport_size["width"]
    for part in ("td.rule-name", "td[data-label='Parameters:']", "td[data-label='Scope:']", "td.rule-edit a"):
        box = card.locator(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport + 1, part  # within the screen, not a box's scroll
    assert "Window 36 periods" in card.locator("td[data-label='Parameters:']").inner_text()
    if width == 390:
        assert not page.is_visible("table.rules thead")
        assert (
            page.locator(f"tr[data-rule='{rule.pk}'] td[data-label='Kind:']").evaluate(
                "td => getComputedStyle(td, '::before').content"
            )
            == '"Kind: "'
        )
        heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
        assert max(heights) < 240, heights  # the unusual-change rules, with five parameters: about 205 px
    else:
        assert page.is_visible("table.rules thead")


@pytest.mark.parametrize("width", [390, 1366])
def test_the_rule_form_shows_the_field_the_scope_needs(session, demo, width):
    rule = ThresholdRule.objects.filter(kind="unusual_change", scope="all").first()
    visitor = session(width=width)
    visitor.sign_in("lead")
    visitor.go(f"/ops/rules/{rule.pk}/edit/")
    page = visitor.page
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the rule form scrolls sideways at {width} px"
    assert not page.is_visible("#id_agency") and not page.is_visible("#id_indicator")
    page.select_option("#id_scope", "agency")
    assert page.is_visible("#id_agency") and not page.is_visible("#id_indicator")
    page.select_option("#id_scope", "indicator")
    assert page.is_visible("#id_indicator") and not page.is_visible("#id_agency")
    assert page.is_visible("#id_param_window")

    # Each parameter its own field, with its unit or help; saved as the rule's parameters.
    window = page.locator("#id_param_window")
    assert window.get_attribute("type") == "number"
    help_id = window.get_attribute("aria-describedby")
    assert help_id and page.inner_text(f"#{help_id.split()[0]}").strip()
    page.select_option("#id_scope", "agency")
    page.select_option("#id_agency", "DOT")
    window.fill("4")
    page.click("form[data-rule-form] button[type=submit]:not([name=preview])")
    page.wait_for_url("**/ops/rules/")
    rule.refresh_from_db()
    assert rule.scope == "agency" and rule.agency.code == "DOT" and rule.params.get("window") == 4
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


@pytest.mark.parametrize("width", [390, 1366])
def test_a_case_raised_by_hand_records_the_period_and_value_it_is_about(session, demo, width):
    indicator = demo["dismissed"].indicator  # its case is closed: a new one may be raised
    measured = list(Measurement.objects.filter(indicator=indicator).order_by("period"))
    earlier = measured[-2]
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("liaison")
    visitor.go(f"/indicators/{indicator.pk}/")
    page.click("#raise-heading")
    form = page.locator("details.raise-flag form")
    assert form.locator("select[name=severity]").input_value() == ""  # nothing pre-chosen
    form.locator("select[name=severity]").select_option("yellow")
    form.locator("textarea[name=summary]").fill("The agency reports a backlog the numbers do not show yet.")
    form.locator("input[name=period]").fill(earlier.period.isoformat())  # the value left blank: the measured one
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the raise form scrolls sideways at {width} px"
    assert visitor.axe_violations() == []
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/flags/*/")
    flag = Flag.objects.filter(indicator=indicator, origin="manual").get()
    assert flag.period == earlier.period and flag.value == earlier.value
    about = page.inner_text("[data-testid=raised-about]")
    assert about.startswith("Raised by hand about ") and f"({earlier.period:%Y-%m-%d})" in about
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"the case page scrolls sideways at {width} px"
