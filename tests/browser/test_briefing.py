"""The deputy mayor's briefing in the browser: it opens with the portfolio's summary, does not scroll sideways
at 390 px, and prints to a PDF (Chromium's ``page.pdf``) with the summary and without the navigation, the header
search or any form."""

import pytest

from escalations.models import Flag, Notification
from indicators.models import Agency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PHONE, LAPTOP = 390, 1366


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_briefing_opens_with_its_summary_and_prints_to_pdf(session, demo, width):
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("deputy")
    code = demo["escalated"].indicator.agency.portfolio.code
    visitor.go(f"/briefings/{code}/")

    summary = page.locator("[data-testid=briefing-summary]")
    assert summary.is_visible() and summary.bounding_box()["y"] < 900  # it opens the page, on a phone too
    assert "indicators:" in page.locator("[data-testid=briefing-rag]").inner_text()
    waiting = page.locator("[data-testid=briefing-waiting]").inner_text()
    assert "1 waiting under 7 days" in waiting  # the demo's one escalation, made today
    assert "Decisions this month" in page.locator("[data-testid=briefing-month]").inner_text()
    assert visitor.axe_violations() == []
    assert not scrolls_sideways(page)

    page.emulate_media(media="print")
    assert summary.is_visible()
    assert not page.locator(".nav-links").is_visible() and not page.locator("#site-search-q").is_visible()
    assert page.locator("form:visible").count() == 0  # the sign-out button's form too
    pdf = page.pdf(format="Letter")
    assert len(pdf) > 1000 and pdf[:4] == b"%PDF"


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_an_escalation_without_a_portfolio_goes_to_the_ops_leads_who_are_told(session, demo, width):
    """No deputy mayor's office would hear of a case of an agency in no portfolio: the liaison is told where it
    went, the ops leads are notified ("Escalated with no deputy mayor to decide") and find it in their inbox;
    the deputy mayor's office is not notified."""
    flag = demo["detected"]
    Agency.objects.filter(pk=flag.indicator.agency_id).update(portfolio=None)  # as an agency not yet placed
    agency, name = flag.indicator.agency.name, flag.indicator.name

    liaison = session(width=width)
    page = liaison.page
    liaison.sign_in("liaison")
    liaison.go(f"/flags/{flag.pk}/")
    page.locator("form.action-review button").click()
    page.wait_for_selector("text=Start review: done.")
    page.locator("details.action-escalate summary").click()
    page.fill("#id_escalate-summary", "A slip the agency cannot fix alone.")
    page.fill("#id_escalate-recommendation", "Place the agency in a portfolio; meanwhile Operations decides.")
    page.select_option("#id_escalate-urgency", "high")
    page.locator("details.action-escalate button[type=submit]").click()
    said = page.locator(".messages").inner_text()
    assert f"{agency} is in no portfolio, so it waits for the ops leads to decide" in said, said
    assert not scrolls_sideways(page)
    assert Flag.objects.get(pk=flag.pk).status == "escalated"
    liaison.sign_out()

    lead = session(bypass_csp=True, width=width)  # to inject axe-core
    page = lead.page
    lead.sign_in("lead")
    assert page.locator("[data-testid=unread]").inner_text() != "0 unread notifications"
    page.click("[data-testid=unread]")
    page.wait_for_url("**/notifications/")
    row = page.locator("table.notifications tbody tr", has_text=f"Escalated with no deputy mayor to decide: {name}")
    assert row.count() == 1 and "Unread" in row.inner_text()
    assert not scrolls_sideways(page)
    assert lead.axe_violations() == []
    row.locator("a").click()
    page.wait_for_url(f"**/flags/{flag.pk}/")
    assert "Escalated" in page.inner_text("[data-testid=flag-status]")
    lead.go("/inbox/")
    briefing = page.locator("article.briefing", has_text=name)
    assert briefing.count() == 1
    assert "Place the agency in a portfolio" in briefing.inner_text()
    assert not scrolls_sideways(page)

    deputies = Notification.objects.filter(event__flag=flag, user__username="deputy")
    assert not deputies.exists()
