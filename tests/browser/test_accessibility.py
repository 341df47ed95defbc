"""Every page, checked in the browser at a phone's width (390 px) and a laptop's (1,366 px): axe-core finds no
serious or critical accessibility violation, no page scrolls sideways, RAG status never relies on colour alone,
and nothing is loaded from outside the server."""

import pytest

from escalations.models import Project
from indicators.models import ThresholdRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages(demo) -> list[str]:
    flag = demo["reviewed"]
    return [
        "/",
        "/?rag=red",
        f"/?agency={flag.indicator.agency.code}",
        "/search/?q=pothole",
        "/flags/",
        f"/flags/{flag.pk}/",
        f"/flags/{demo['escalated'].pk}/",
        f"/flags/{demo['project_flag'].pk}/",
        "/inbox/",
        "/projects/",
        f"/projects/{Project.objects.get().pk}/",
        "/projects/new/",
        f"/indicators/{flag.indicator_id}/",
        "/audit/",
        "/ops/rules/",
        f"/ops/rules/{ThresholdRule.objects.all()[0].pk}/edit/",
        "/ops/check-runs/",
        "/ops/imports/",
        "/sla/",
        "/notifications/",
        "/accounts/password/",
        f"/briefings/{flag.indicator.agency.portfolio.code}/",
        f"/reports/operations/?portfolio={flag.indicator.agency.portfolio.code}",
    ]


def scroll_width(visitor) -> int:
    return visitor.page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("width", [390, 1366])
def test_every_page_is_accessible_and_loads_nothing_from_outside(session, demo, width):
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core; the journey test runs under the CSP
    visitor.go("/accounts/login/")
    problems = {"/accounts/login/": visitor.axe_violations()}
    wide = {"/accounts/login/": scroll_width(visitor)}
    visitor.sign_in("lead")
    for path in pages(demo):
        visitor.go(path)
        wide[path] = scroll_width(visitor)  # before axe opens every <details>: as the page first shows
        problems[path] = visitor.axe_violations()
        wide[f"{path} (every <details> open)"] = scroll_width(visitor)
        labels = visitor.page.eval_on_selector_all(".rag", "badges => badges.map(b => b.textContent.trim())")
        # Colour is never alone: every status badge also says it in words.
        assert all(label.endswith(("Red", "Yellow", "Green")) for label in labels), (path, labels)
    # A form refused by the service, shown inline, is accessible too.
    visitor.page.goto(visitor.base_url + f"/flags/{demo['reviewed'].pk}/")
    visitor.page.evaluate("document.querySelectorAll('[required]').forEach(f => f.removeAttribute('required'))")
    visitor.page.locator("details.action-dismiss summary").click()
    visitor.page.locator("details.action-dismiss button[type=submit]").click()
    visitor.page.wait_for_selector(".field-error")
    problems["dismiss form with errors"] = visitor.axe_violations()

    wide["dismiss form with errors"] = scroll_width(visitor)

    assert {path: found for path, found in problems.items() if found} == {}
    assert {path: pixels for path, pixels in wide.items() if pixels > width} == {}
    assert visitor.external == []
