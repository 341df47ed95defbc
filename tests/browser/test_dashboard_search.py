"""The dashboard and the search in a real browser on the demo data: a first page that is a short summary, worst
first, leading to an agency's indicators; a header search box that answers as one types and still works as a
plain form; and no page that scrolls sideways on a phone (390 px) or a laptop (1,366 px)."""

import pytest
from django.db.models import Q

from indicators.models import Indicator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, LAPTOP = 390, 1366


def overflow(session, path: str, width: int) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page at ``width`` px."""
    session.page.set_viewport_size({"width": width, "height": 900})
    session.go(path)
    return session.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_dashboard_opens_on_a_short_summary_worst_first_and_drills_down(session, demo, width):
    visitor = session(width=width)
    visitor.sign_in("deputy")
    page = visitor.page
    visitor.go("/")
    height = page.evaluate("document.documentElement.scrollHeight")
    if width == LAPTOP:
        assert height < 4000, height  # the first page: the summary, not 55,000 px of indicators
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Within each portfolio, its agencies worst first: most red, then most yellow.
    for body in page.locator("table.rag-summary tbody").all():
        counts = [
            tuple(int(n) for n in row.get_attribute("data-counts").split()[:2])
            for row in body.locator("tr[data-agency]").all()
        ]
        assert counts == sorted(counts, key=lambda c: (-c[0], -c[1])), counts
    portfolios = [
        tuple(int(n) for n in [row.locator("td").nth(0).inner_text(), row.locator("td").nth(1).inner_text()])
        for row in page.locator("tr.portfolio-row").all()
    ]
    assert len(portfolios) > 1 and portfolios == sorted(portfolios, key=lambda c: (-c[0], -c[1]))

    # The worst agency leads to its indicators, red first, a page at a time.
    worst = page.locator("tr[data-agency]").first
    code, name = worst.get_attribute("data-agency"), worst.locator("a").inner_text()
    worst.locator("a").click()
    page.wait_for_url(f"**/?agency={code}")
    assert page.inner_text("#indicators-heading").startswith(f"Indicators of {name}")
    rows = page.locator("table.indicators tbody tr")
    assert 0 < rows.count() <= 50
    assert rows.first.locator(".rag").inner_text().strip().endswith("Red")
    if width == LAPTOP:
        assert page.evaluate("document.documentElement.scrollHeight") < 4000 + 50 * 80
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert visitor.external == [] and visitor.csp_violations == []


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_header_search_answers_as_one_types_and_works_as_a_form(session, demo, width):
    indicator = Indicator.objects.get(external_id="2900")  # "Pothole work orders", DOT
    visitor = session(width=width)
    visitor.sign_in("liaison")
    page = visitor.page
    visitor.go("/flags/")
    box = page.locator("#site-search-q")
    box.press_sequentially("pothole wor", delay=40)
    suggestion = page.locator("#search-suggestions a", has_text=indicator.name)
    suggestion.wait_for()
    assert page.locator("#search-suggestions li").count() <= 11
    suggestion.click()
    page.wait_for_url(f"**/indicators/{indicator.pk}/")

    # By MMR ID, then Enter: the whole results page (what a browser without JavaScript gets too).
    box = page.locator("#site-search-q")
    box.fill("2900")
    box.press("Enter")
    page.wait_for_url("**/search/?q=2900")
    assert page.locator("[data-testid=search-results] li").first.locator("a").first.inner_text() == indicator.name
    assert "1 indicator found" in page.inner_text("[data-testid=search-count]")

    # An agency's code and a word of the name: every word must match somewhere.
    box = page.locator("#site-search-q")
    box.fill("")
    box.press_sequentially("DOT pothole", delay=20)
    page.locator("#search-suggestions a", has_text=indicator.name).wait_for()
    suggested = page.locator("#search-suggestions li a[href^='/indicators/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    expected = Indicator.objects.filter(
        Q(name__icontains="pothole") | Q(service__icontains="pothole"), agency__code="DOT"
    )
    assert sorted(suggested) == sorted(f"/indicators/{pk}/" for pk in expected.values_list("pk", flat=True))
    box.press("Enter")
    page.wait_for_url("**/search/?q=DOT+pothole")
    results = page.locator("[data-testid=search-results] li")
    assert results.count() == expected.count() > 0
    assert all("Department of Transportation" in text for text in results.all_inner_texts())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert visitor.external == [] and visitor.csp_violations == []


def test_the_search_works_without_javascript(browser, live_server, demo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.fill("#site-search-q", "sanitation")
    page.click(".site-search button[type=submit]")
    page.wait_for_url("**/search/?q=sanitation")
    assert page.locator("[data-testid=search-results] li").count() > 10
    context.close()


def test_no_page_scrolls_sideways(session, demo):
    visitor = session(bypass_csp=True)  # to inject axe-core with the suggestions open
    visitor.sign_in("lead")
    agency = demo["reviewed"].indicator.agency.code
    paths = [
        "/",
        f"/?agency={agency}",
        "/?rag=red",
        "/search/?q=percent",
        "/flags/",
        f"/indicators/{demo['reviewed'].indicator_id}/",
        "/audit/",
        "/projects/",
    ]
    wide = {}
    for width in (PHONE, LAPTOP):
        for path in paths:
            scroll, client = overflow(visitor, path, width)
            if scroll > client:
                wide[(width, path)] = scroll
        # The suggestions open over the page, inside it.
        visitor.page.locator("#site-search-q").fill("average")
        visitor.page.locator("#search-suggestions li").first.wait_for()
        scroll, client = visitor.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            wide[(width, "suggestions")] = scroll
    assert visitor.axe_violations() == []
    assert wide == {}
