"""A queue with a group of community-district breakouts in a real browser, on a phone (390 px) and a laptop
(1,366 px): the parent's case first with its count, the breakouts indented under it and labelled with their
place, then a parent without a case of its own under a header; no sideways scrolling, no axe-core violation,
and a breakout row selected for a bulk action is acted on.

The demo data (the PMMR FY2023 file) has no breakouts, so the group is built from factories."""

import pytest

from core.permissions import Role
from escalations.models import Flag

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)
CLEAN = "Streets rated acceptably clean (%)"
QUEUE = "/flags/?open=true&category=performance&ordering=-priority"


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_a_group_of_breakouts_at_390_and_1366_px(session, make_user):
    agency = AgencyFactory.create()
    make_user(Role.LIAISON, agencies=[agency], username="dana")
    parent = IndicatorFactory.create(agency=agency, name=CLEAN)
    parent_case = FlagFactory.create(indicator=parent)
    places = ("Bronx CD 1", "Bronx CD 2", "Brooklyn CD 3")
    breakouts = [
        FlagFactory.create(
            indicator=IndicatorFactory.create(agency=agency, parent=parent, name=f"{CLEAN} — {place}"),
            severity="red" if place == "Bronx CD 1" else "yellow",
        )
        for place in places
    ]
    other = FlagFactory.create(indicator__agency=agency, indicator__public_impact_weight=3)
    # A parent with no case of its own: its breakout shows under a header naming it.
    potholes = IndicatorFactory.create(agency=agency, name="Potholes repaired within 15 days (%)")
    lone = FlagFactory.create(
        indicator=IndicatorFactory.create(agency=agency, parent=potholes, name=f"{potholes.name} — Queens CD 7"),
        severity="red",
    )

    dana = session(bypass_csp=True)  # to inject axe-core (the site's CSP rightly refuses it)
    dana.sign_in("dana", password="pw")
    page = dana.page
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        dana.go(QUEUE)
        body = page.locator("table.flags tbody tr")
        order = body.evaluate_all("rows => rows.map(r => r.dataset.flag || 'group ' + r.dataset.group)")
        assert order == [
            str(parent_case.pk),
            *(str(flag.pk) for flag in breakouts),
            f"group {potholes.pk}",
            str(lone.pk),
            str(other.pk),
        ], width
        first = page.locator(f"tr[data-flag='{parent_case.pk}']")
        assert "+3 breakouts" in first.inner_text()
        for flag, place in zip(breakouts, places, strict=True):
            row = page.locator(f"tr[data-flag='{flag.pk}']")
            assert f"Breakout: {place}" in row.inner_text()
            # Indented under the parent (half a line or more): in the table's cell, or as a card on a phone.
            indent = row.locator("td.case a").first.bounding_box()["x"]
            plain = first.locator("td.case a").first.bounding_box()["x"]
            assert indent >= plain + 7, width
        header = page.locator(f"tr[data-group='{potholes.pk}']")
        assert potholes.name in header.inner_text() and "1 breakout case below" in header.inner_text()
        assert not scrolls_sideways(page), width
        assert dana.axe_violations() == [], width

    # A breakout row's checkbox works with the bulk form like any other row's.
    page.check(f"#select-{breakouts[1].pk}")
    page.check(f"#select-{lone.pk}")
    page.select_option("#bulk select[name=action]", "review")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("text=Review: 2 of 2 cases done.")
    reviewed = set(Flag.objects.filter(status="in_review").values_list("pk", flat=True))
    assert reviewed == {breakouts[1].pk, lone.pk}
    assert dana.external == []
