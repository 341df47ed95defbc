"""The hearing report in the browser: at 1,366 px it leads with the totals table, at 390 px it does not
scroll sideways, and printed it keeps the totals and drops the navigation and the filters."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_leads_with_totals_and_prints_cleanly(session, demo):
    visitor = session(bypass_csp=True)  # to inject axe-core
    page = visitor.page
    page.set_viewport_size({"width": 1366, "height": 900})
    visitor.sign_in("lead")
    visitor.go("/reports/operations/?start=2000-01-01")

    totals = page.locator("[data-testid=report-totals]")
    assert totals.is_visible()
    headers = totals.locator("thead th").all_inner_texts()
    assert headers[:4] == ["Agency", "Fiscal year", "Cases opened", "Reviewed"]
    assert "Median days to decision" in headers and "Indicators recovered" in headers
    assert totals.locator("tr.totals-all").inner_text().startswith("All agencies and years")
    # The totals come before the first case, within the first screen.
    assert totals.bounding_box()["y"] < 900
    assert totals.bounding_box()["y"] < page.locator("article.story").first.bounding_box()["y"]
    assert visitor.axe_violations() == []

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(media="print")
    assert totals.is_visible()
    assert not page.locator("form.filters").is_visible() and not page.locator(".nav-links").is_visible()
    assert page.pdf(format="Letter", landscape=True)[:4] == b"%PDF"
