"""Words for staff, in the browser at 390 and 1,366 px: every event reads as a sentence with people by name and
reason codes as labels; an indicator's timeline that mixes two cases labels each event with its case; the audit
log's times and its CSV's are the same New York time, the CSV with its offset."""

import csv
import re

import pytest
from django.contrib.auth import get_user_model

from escalations import services
from escalations.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RAW = ("expected_seasonal", "{'old'", "'new':", "flag.dismissed", "in_review")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [390, 1366])
def test_events_read_as_sentences_labelled_with_their_case(session, demo, width):
    dismissed = demo["dismissed"]  # dismissed by Lia Liaison: expected (seasonal), "Snow season moved the numbers."
    liaison = get_user_model().objects.get(username="liaison")
    again = services.flag_raise(
        indicator=dismissed.indicator, actor=liaison, severity="yellow", summary="The slip is back after the snow."
    )
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("lead")

    visitor.go(f"/flags/{dismissed.pk}/")
    timeline = page.inner_text("ol.timeline")
    assert "Lia Liaison dismissed it: expected (seasonal) — ‘Snow season moved the numbers.’" in timeline
    assert not any(code in page.inner_text("main") for code in RAW)
    assert page.locator("ol.timeline a.event-case").count() == 0  # one case: no label needed
    assert not scrolls_sideways(page)

    visitor.go(f"/indicators/{dismissed.indicator_id}/")
    entries = page.locator("ol.timeline li")
    labelled = {
        entry.locator("a.event-case").inner_text() for entry in entries.all() if entry.locator("a.event-case").count()
    }
    assert labelled == {f"case #{dismissed.pk}", f"case #{again.pk}"}
    dismissal = page.locator("ol.timeline li", has_text="dismissed it")
    assert dismissal.locator("a.event-case").inner_text() == f"case #{dismissed.pk}"
    assert not any(code in page.inner_text("main") for code in RAW)
    assert not scrolls_sideways(page)
    assert visitor.axe_violations() == []

    # The audit log and its CSV: the same New York time, the CSV with the offset.
    visitor.go(f"/audit/?agency={dismissed.indicator.agency.code}")
    row = page.locator(f"tr[data-event='{Event.objects.get(flag=dismissed, verb='flag.dismissed').pk}']")
    shown = row.locator("time").inner_text()
    assert "dismissed it: expected (seasonal)" in row.inner_text() and "Lia Liaison" in row.inner_text()
    assert not scrolls_sideways(page)
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    with open(download.value.path(), newline="", encoding="utf-8") as exported:
        rows = {row["id"]: row for row in csv.DictReader(exported)}
    occurred = rows[row.get_attribute("data-event")]["occurred_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?-0[45]:00", occurred), occurred  # New York
    assert occurred.replace("T", " ").startswith(shown), (occurred, shown)
