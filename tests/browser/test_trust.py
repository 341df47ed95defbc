"""Flags people trust, in a real browser on the real data: one case per indicator in a queue ordered by
priority that says why, a case page with its signals in their own units, a dashboard colour that a dismissal
does not change, and a "run now" that says which date it will use."""

import re

import pytest

from escalations.models import Flag
from escalations.priority import priority_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_queue_case_page_and_dashboard(session, demo):
    liaison = session()
    liaison.sign_in("liaison")
    page = liaison.page

    # The queue: one row per case, highest priority first, each with the terms of its priority.
    liaison.go("/flags/")
    assert "highest priority first" in page.inner_text("main")
    rows = page.locator("table.flags tbody tr")
    shown = [int(rows.nth(i).locator("td.num strong").inner_text()) for i in range(min(rows.count(), 20))]
    assert len(shown) > 3 and shown == sorted(shown, reverse=True)
    first = rows.first.inner_text()
    assert re.search(r"(red|yellow) \d+", first) and "public impact" in first
    cases = {
        int(href.split("/")[2])
        for href in page.locator("table.flags tbody a[href^='/flags/']").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))"
        )
    }
    indicators = Flag.objects.filter(pk__in=cases).values_list("indicator_id", flat=True)
    assert len(set(indicators)) == len(cases)  # one case per indicator

    # A case: its signals, each measured in its own unit, and its priority.
    case = demo["reviewed"]
    liaison.go(f"/flags/{case.pk}/")
    signals = page.inner_text("table.signals")
    assert re.search(r"\d+\.\d %", signals) and "worse than" in signals
    assert f"Priority {priority_of(Flag.objects.get(pk=case.pk))}" in page.inner_text("p.priority-why")

    # The dashboard: the dismissed case's indicator keeps the colour the check measured, with the decision beside.
    dismissed = demo["dismissed"]
    liaison.go(f"/?agency={dismissed.indicator.agency.code}")
    row = page.locator("table.indicators tr", has_text=dismissed.indicator.name).first.inner_text()
    assert dismissed.indicator.rag in ("red", "yellow")
    assert dismissed.indicator.get_rag_display() in row and "case dismissed: expected (seasonal)" in row
    liaison.sign_out()

    # "Run now" says which date a blank "as of" means.
    lead = session()
    lead.sign_in("lead")
    lead.go("/ops/check-runs/")
    assert "Left blank:" in lead.page.inner_text("#as_of_help")
    lead.sign_out()

    for s in (liaison, lead):
        assert s.external == [] and s.csp_violations == []
