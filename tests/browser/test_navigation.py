"""Navigation shows only the links its reader may open, checked in the browser for every demo role at 390 and
1,366 px: each link of the header's navigation opens (no 403), the auditor has no link to the import page, and
the navigation stays within the screen."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ("admin", "lead", "liaison", "deputy", "pm", "auditor")


@pytest.mark.parametrize("width", [390, 1366])
def test_every_navigation_link_opens_for_its_reader(session, demo, width):
    refused = {}
    for username in ROLES:
        visitor = session(width=width)
        page = visitor.page
        visitor.sign_in(username)
        links = page.locator("nav[aria-label=Main] .nav-links a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert "/flags/" in links and "/" in links, (username, links)
        assert page.locator("nav[aria-label=Main] .nav-links").is_visible()
        nav = page.locator("nav[aria-label=Main]").bounding_box()
        assert nav["x"] >= 0 and nav["x"] + nav["width"] <= width, (username, nav)
        for href in links:
            response = page.goto(visitor.base_url + href)
            if response.status >= 400:
                refused[(username, href)] = response.status
        if username == "auditor":
            assert "/ops/imports/" not in links  # it answered 403 to them
        if username in ("lead", "admin"):
            assert "/ops/imports/" in links
        visitor.close()
    assert refused == {}
