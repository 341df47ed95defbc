"""The life of one flag in a real browser: a liaison triages and escalates it, the deputy mayor's office
makes it a project, the project manager completes it, and the auditor finds every step and exports them."""

import csv

import pytest

from escalations.models import Flag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_flag_from_triage_to_completed_project(session, demo):
    flag = demo["detected"]
    agency = flag.indicator.agency
    name = flag.indicator.name

    # The liaison signs in and filters the queue down to the flag.
    liaison = session()
    liaison.sign_in("liaison")
    page = liaison.page
    assert page.inner_text("[data-testid=user-name]") == "Lia Liaison"
    liaison.go("/flags/")
    everything = page.inner_text("[data-testid=queue-count]")
    page.select_option("#id_agency", agency.code)
    page.select_option("#id_severity", flag.severity)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**severity={flag.severity}**")
    filtered = page.inner_text("[data-testid=queue-count]")
    assert filtered != everything
    page.check("#select-all")  # the page's own script, allowed by the CSP
    assert page.locator("#bulk input[name=ids]:checked").count() == page.locator("#bulk input[name=ids]").count()
    page.uncheck("#select-all")
    # The bulk form shows the fields of the chosen action only (the same fields as the action's own form).
    assert page.locator("[data-bulk-action=dismiss]").is_hidden()
    page.select_option("#bulk select[name=action]", "dismiss")
    assert page.locator("#id_bulk-dismiss-note").is_visible()
    assert page.locator("[data-bulk-action=escalate]").is_hidden()
    rows = page.locator("table.flags tbody tr")
    assert all(agency.code in rows.nth(i).inner_text() for i in range(rows.count()))

    # …opens the flag: chart, numbers, actions.
    page.click(f"a[href='/flags/{flag.pk}/']")
    assert name in page.inner_text("h1")
    assert page.locator("svg.series-chart circle.flagged").count() == 1
    assert "Detected" in page.inner_text("[data-testid=flag-status]")
    page.locator("form.action-review button").click()
    page.wait_for_selector("text=Start review: done.")
    assert "In review" in page.inner_text("[data-testid=flag-status]")

    # …adds agency intelligence, then escalates with a summary and a recommendation.
    page.select_option("#id_note-kind", "agency_intel")
    page.fill("#id_note-body", "The commissioner says a new contract starts in March.")
    page.fill("#id_note-source", "call with the chief of staff")
    page.click("form.note-form button[type=submit]")
    page.wait_for_selector("text=Add note: done.")
    assert "The commissioner says a new contract starts in March." in page.inner_text("#notes-heading + article")

    page.locator("details.action-escalate summary").click()
    page.locator("details.action-escalate button[type=submit]").click()  # empty: the browser asks for input
    assert page.locator("#id_escalate-summary").evaluate("field => field.validity.valueMissing")
    page.fill("#id_escalate-summary", "Slipping for a second year.")
    page.fill("#id_escalate-recommendation", "Make it a project with the agency.")
    page.select_option("#id_escalate-urgency", "high")
    page.locator("details.action-escalate button[type=submit]").click()
    page.wait_for_selector("text=Escalated: it waits for the deputy mayor")
    assert "Escalated" in page.inner_text("[data-testid=flag-status]")
    liaison.sign_out()

    # The deputy mayor's office sees it in the inbox with the briefing and makes it a project.
    deputy = session()
    deputy.sign_in("deputy")
    page = deputy.page
    deputy.go("/inbox/")
    briefing = page.locator("article.briefing", has_text=name)
    assert "The commissioner says a new contract starts in March." in briefing.inner_text()
    assert "Make it a project with the agency." in briefing.inner_text()
    briefing.locator("details.action-convert summary").click()
    briefing.locator("[name=convert-title]").fill("Second-year slip recovery")
    briefing.locator("[name=convert-owner]").select_option(label="Pat Manager (pm)")
    briefing.locator("details.action-convert button[type=submit]").click()
    page.wait_for_selector("text=Converted to project")
    assert page.locator(".messages a", has_text="Second-year slip recovery").count() == 1
    assert page.locator("article.briefing", has_text=name).count() == 0
    deputy.sign_out()

    # The project manager starts and completes the project, which resolves the flag.
    pm = session()
    pm.sign_in("pm")
    page = pm.page
    pm.go("/projects/")
    page.click("text=Second-year slip recovery")
    assert "Proposed" in page.inner_text("[data-testid=project-status]")
    page.click("button:has-text('Start (make active)')")
    page.wait_for_selector("text=Project is now active.")
    page.click("details.action-complete summary")
    page.fill("#id_complete-outcome", "Contract signed; the indicator is back on trend.")
    page.click("details.action-complete button[type=submit]")
    page.wait_for_selector("text=Project is now completed.")
    assert "Completed" in page.inner_text("[data-testid=project-status]")
    assert f"Case #{flag.pk}" in page.inner_text("#flags-heading + ul")
    assert "Resolved" in page.inner_text("#flags-heading + ul")
    assert Flag.objects.get(pk=flag.pk).status == "resolved"

    # The auditor finds every step in the audit log and exports it.
    auditor = session()
    auditor.sign_in("auditor")
    page = auditor.page
    auditor.go("/audit/")
    page.select_option("#id_agency", agency.code)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**agency={agency.code}**")
    log = page.inner_text("table.audit")
    for step in ("Review started", "Note added", "Escalated", "Converted to project", "Project updated",
                 "Project completed", "Resolved"):  # fmt: skip
        assert step in log, step
    assert "The commissioner says a new contract starts in March." in log
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    with open(download.value.path(), newline="", encoding="utf-8") as exported:
        rows = [row for row in csv.DictReader(exported) if row["flag"] == str(flag.pk)]
    assert [row["verb"] for row in sorted(rows, key=lambda row: int(row["id"]))] == [  # the page: newest first
        "flag.detected",
        "flag.reviewed",
        "flag.noted",
        "flag.escalated",
        "flag.converted",
        "flag.resolved",
    ]
    assert {row["actor"] for row in rows} >= {"liaison", "deputy"}

    for s in (liaison, deputy, pm, auditor):
        assert s.external == [], s.external
        assert s.csp_violations == [], s.csp_violations
