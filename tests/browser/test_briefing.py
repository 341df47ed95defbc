"""The deputy mayor's briefing in the browser: it opens with the portfolio's summary, does not scroll sideways
at 390 px, and prints to a PDF (Chromium's ``page.pdf``) with the summary and without the navigation, the header
search or any form."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_briefing_opens_with_its_summary_and_prints_to_pdf(session, demo):
    visitor = session(bypass_csp=True)  # to inject axe-core
    page = visitor.page
    page.set_viewport_size({"width": 1366, "height": 900})
    visitor.sign_in("deputy")
    code = demo["escalated"].indicator.agency.portfolio.code
    visitor.go(f"/briefings/{code}/")

    summary = page.locator("[data-testid=briefing-summary]")
    assert summary.is_visible() and summary.bounding_box()["y"] < 900
    assert "indicators:" in page.locator("[data-testid=briefing-rag]").inner_text()
    waiting = page.locator("[data-testid=briefing-waiting]").inner_text()
    assert "1 waiting under 7 days" in waiting  # the demo's one escalation, made today
    assert "Decisions this month" in page.locator("[data-testid=briefing-month]").inner_text()
    assert visitor.axe_violations() == []

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(media="print")
    assert summary.is_visible()
    assert not page.locator(".nav-links").is_visible() and not page.locator("#site-search-q").is_visible()
    assert page.locator("form:visible").count() == 0  # the sign-out button's form too
    pdf = page.pdf(format="Letter")
    assert len(pdf) > 1000 and pdf[:4] == b"%PDF"
