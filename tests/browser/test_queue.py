"""The triage queue in a real browser, on a phone (390 px) and a laptop (1,366 px): the Due column says which
case is overdue in words and colour without the page scrolling sideways, the agency filter offers only the
liaison's agencies, a view is saved and picked again, and a refused bulk action keeps what was chosen."""

import datetime as dt

import pytest
from django.utils import timezone

from escalations.models import Flag
from escalations.selectors import agencies_in_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_the_queue_shows_what_is_due_at_390_and_1366_px(session, demo):
    liaison = session(bypass_csp=True)  # to inject axe-core (the site's CSP rightly refuses it)
    liaison.sign_in("liaison")
    page = liaison.page
    user = demo["reviewed"].indicator.agency.liaisons.get(username="liaison")
    mine = Flag.objects.filter(indicator__agency__in=agencies_in_scope(user), status="detected").order_by("pk")
    late = mine.first()
    assert late is not None
    Flag.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=2))  # as time passing would

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        liaison.go("/flags/?open=true&ordering=due")
        assert "Due" in page.locator("table.flags thead").inner_text()
        first = page.locator("table.flags tbody tr").first
        assert first.get_attribute("data-flag") == str(late.pk)  # soonest due first: the overdue one
        overdue = first.locator("[data-testid=overdue]")
        assert overdue.inner_text() == "Overdue"
        assert overdue.evaluate("e => getComputedStyle(e).color") == "rgb(143, 19, 23)"  # and red
        assert not scrolls_sideways(page), width  # a wide table scrolls inside its own box, the page does not

    # Only the liaison's own agencies to choose from.
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
