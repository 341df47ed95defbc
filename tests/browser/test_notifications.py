"""Notifications in the browser at 390 and 1,366 px: one row per case (its latest notification, how many came
before it, how many are unread) with the case's agency and severity, 50 rows a page with page links, "Mark all
read", and the daily digest of red cases only as an e-mail choice — without sideways scrolling or axe-core
violations."""

import pytest
from django.contrib.auth import get_user_model

from escalations.models import Event, Flag, Notification, NotificationPreference

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PER_PAGE = 50


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [390, 1366])
def test_notifications_are_paged_grouped_by_case_and_marked_read(session, demo, width):
    liaison = get_user_model().objects.get(username="liaison")
    # More cases to be told of than a page holds, each through the event that opened it (as the check's
    # notifications would be); one case told twice.
    detected = list(Event.objects.filter(verb="flag.detected").select_related("flag__indicator")[: PER_PAGE + 5])
    assert len(detected) == PER_PAGE + 5
    Notification.objects.filter(user=liaison).delete()
    Notification.objects.bulk_create(
        Notification(
            user=liaison, event=event, title=f"New case: {event.flag.indicator.name}", url=f"/flags/{event.flag_id}/"
        )
        for event in detected
    )
    twice = detected[-1]  # the newest row: told again, later
    later = Event.objects.filter(flag=twice.flag).exclude(pk=twice.pk).first() or twice
    Notification.objects.create(
        user=liaison, event=later, reason="again", title="Updated", url=f"/flags/{twice.flag_id}/"
    )
    cases = len({event.flag_id for event in detected})

    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("liaison")
    visitor.go("/notifications/")
    rows = page.locator("table.notifications tbody tr")
    assert rows.count() == PER_PAGE
    assert "Page 1 of 2" in page.inner_text("nav.pager")
    # Each row: the case's severity in words and its agency.
    for row in rows.all()[:5]:
        flag = Flag.objects.select_related("indicator__agency").get(
            pk=row.locator("a").first.get_attribute("href").split("/")[2]
        )
        cells = row.locator("td").all_inner_texts()
        assert cells[2].strip().endswith(flag.get_severity_display()) and cells[3].strip() == flag.indicator.agency.code
    grouped = page.locator(f"table.notifications tbody tr:has(a[href='/flags/{twice.flag_id}/'])")
    assert grouped.count() == 1  # one row for the case, not two
    assert "and 1 earlier update on this case" in grouped.inner_text() and "2 unread" in grouped.inner_text()
    assert not scrolls_sideways(page)
    assert visitor.axe_violations() == []

    page.click("nav.pager a:text('Next')")
    page.wait_for_url("**page=2**")
    assert page.locator("table.notifications tbody tr").count() == cases - PER_PAGE
    assert not scrolls_sideways(page)

    page.click("[data-testid=mark-all-read]")
    page.wait_for_selector(f"text={PER_PAGE + 6} notifications marked read.")
    assert page.inner_text("[data-testid=unread]") == "0 unread notifications"
    assert not Notification.objects.filter(user=liaison, read_at__isnull=True).exists()

    # The daily digest, limited to red cases.
    page.check("input[name=email_mode][value=digest_red]")
    page.click("form:has(input[name=email_mode]) button[type=submit]")
    page.wait_for_selector("text=Your e-mail choice is saved.")
    assert page.is_checked("input[name=email_mode][value=digest_red]")
    assert NotificationPreference.objects.get(user=liaison).email_mode == "digest_red"
    assert not scrolls_sideways(page)
