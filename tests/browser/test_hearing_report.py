"""The hearing report in the browser at 390 and 1,366 px: it leads with the totals table, does not scroll
sideways, pages its cases, downloads its totals as CSV, and printed it keeps the totals and drops the
navigation and the filters."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1366])
def test_the_report_leads_with_totals_and_prints_cleanly(session, demo, width):
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("lead")
    visitor.go("/reports/operations/?start=2000-01-01")

    totals = page.locator("[data-testid=report-totals]")
    assert totals.is_visible()
    headers = totals.locator("thead th").all_inner_texts()
    assert headers[:4] == ["Agency", "Fiscal year", "Cases opened", "Reviewed"]
    assert "Median days to decision" in headers and "Indicators recovered" in headers
    assert totals.locator("tr.totals-all").inner_text().startswith("All agencies and years")
    # The totals come before the first case, within the first screen (on a phone, after the filters).
    assert totals.bounding_box()["y"] < (900 if width == 1366 else 2000)
    assert totals.bounding_box()["y"] < page.locator("article.story").first.bounding_box()["y"]
    assert visitor.axe_violations() == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # Paged details: 50 cases a page.
    assert page.locator("article.story").count() <= 50

    # The totals as CSV.
    with page.expect_download() as download:
        page.click("a[href*='part=totals']")
    assert download.value.suggested_filename.endswith(".csv")

    page.emulate_media(media="print")
    assert totals.is_visible()
    assert not page.locator("form.filters").is_visible() and not page.locator(".nav-links").is_visible()
    assert page.pdf(format="Letter", landscape=True)[:4] == b"%PDF"
