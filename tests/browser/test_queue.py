"""The triage queue in a real browser, on a phone (390 px) and a laptop (1,366 px): the Due column says which
case is overdue in words and colour without the page scrolling sideways, the agency filter offers only the
liaison's agencies, a view is saved and picked again, and a refused bulk action keeps what was chosen."""

import datetime as dt

import pytest
from django.utils import timezone

from escalations.models import Flag
from escalations.selectors import agencies_in_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, LAPTOP = 390, 1366
WIDTHS = (PHONE, LAPTOP)


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_queue_shows_what_is_due(session, demo, width):
    liaison = session(bypass_csp=True, width=width)  # to inject axe-core (the site's CSP rightly refuses it)
    liaison.sign_in("liaison")
    page = liaison.page
    user = demo["reviewed"].indicator.agency.liaisons.get(username="liaison")
    mine = Flag.objects.filter(indicator__agency__in=agencies_in_scope(user), status="detected").order_by("pk")
    late = mine.first()
    assert late is not None
    Flag.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=2))  # as time passing would

    liaison.go("/flags/?open=true&ordering=due")
    first = page.locator("table.flags tbody tr").first
    assert first.get_attribute("data-flag") == str(late.pk)  # soonest due first: the overdue one
    overdue = first.locator("[data-testid=overdue]")
    assert overdue.inner_text() == "Overdue" and overdue.is_visible()
    assert overdue.evaluate("e => getComputedStyle(e).color") == "rgb(143, 19, 23)"  # and red
    assert not scrolls_sideways(page), width
    if width == LAPTOP:
        assert "Due" in page.locator("table.flags thead").inner_text()
    else:  # a card: the due date labelled in words, the column headers gone
        assert first.locator("td.due").evaluate("e => getComputedStyle(e, '::before').content") == '"Due "'

    # Only the liaison's own agencies to choose from (on a phone, under the folded filters).
    if width == PHONE:
        assert not page.locator("#id_agency").is_visible()
        page.click(".filter-panel summary")
    assert page.locator("#id_agency").is_visible()
    offered = page.locator("#id_agency option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert sorted(offered) == sorted(a.code for a in agencies_in_scope(user))

    # Save this view, leave it, pick it again.
    page.fill("#id_saved_name", "my overdue")
    page.click("form.save-view button[type=submit]")
    page.wait_for_selector("text=Saved the view")
    liaison.go("/flags/")
    page.click("[data-testid=saved-views] a:text('my overdue')")
    page.wait_for_url("**ordering=due**")
    assert page.locator("table.flags tbody tr").first.get_attribute("data-flag") == str(late.pk)

    # A dismissal without a reason is refused and shown again with the case still ticked and the note kept.
    page.check(f"#select-{late.pk}")
    page.select_option("#bulk select[name=action]", "dismiss")
    assert page.locator("#id_bulk-dismiss-reason_code").input_value() == ""  # "Choose a reason", not "Data error"
    page.fill("#id_bulk-dismiss-note", "Mis-keyed by the agency")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("text=Nothing was done.")
    assert page.is_checked(f"#select-{late.pk}")
    assert page.locator("#bulk select[name=action]").input_value() == "dismiss"
    assert page.locator("#id_bulk-dismiss-note").input_value() == "Mis-keyed by the agency"
    assert page.locator("[data-bulk-action=dismiss]").is_visible()
    assert not scrolls_sideways(page)
    assert liaison.axe_violations() == []  # the queue with its saved views and a refused bulk form
    page.select_option("#id_bulk-dismiss-reason_code", "data_error")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("text=Dismiss: 1 of 1 case done.")
    assert Flag.objects.get(pk=late.pk).status == "dismissed"
    assert liaison.external == []


def test_on_a_phone_the_queue_is_a_list_of_cards_still_selectable(session, demo):
    """At 390 px each case is a card (the ten-column table made each row about 280 px tall and the lead's page
    of 50 cases 14,700 px); its checkbox, the page's "select all" and the bulk actions still work."""
    lead = session(width=PHONE)
    lead.sign_in("lead")
    page = lead.page
    lead.go("/flags/")
    cards = page.locator("table.flags tbody tr[data-flag]")
    assert cards.count() == 50
    heights = cards.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert sum(heights) / len(heights) < 170, heights
    assert page.evaluate("document.documentElement.scrollHeight") < 10_500
    assert not scrolls_sideways(page)
    # Every card's parts sit inside its box: its checkbox, name, severity and signals.
    for card in cards.all()[:5]:
        box = card.bounding_box()
        for part in ("td.col-select input", "td.case a", "td.col-severity .rag", "td.col-signals"):
            inner = card.locator(part).first.bounding_box()
            assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"] + 1, part
            assert box["y"] <= inner["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"] + 1, part

    # "Select all", then untick all but two, and start reviewing them with the bulk form.
    page.check("#select-all")
    assert page.locator("#bulk input[name=ids]:checked").count() == 50
    page.uncheck("#select-all")
    two = [
        card.get_attribute("data-flag")
        for card in cards.all()
        if card.locator("td.col-status").inner_text() == "Detected"
    ][:2]
    assert len(two) == 2
    for pk in two:
        page.check(f"#select-{pk}")  # a tap on the card's own checkbox
    page.select_option("#bulk select[name=action]", "review")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("text=Start review: 2 of 2 cases done.")
    assert set(Flag.objects.filter(pk__in=two).values_list("status", flat=True)) == {"in_review"}
    assert not scrolls_sideways(page)
