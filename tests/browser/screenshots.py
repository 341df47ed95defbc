"""`make screenshots`: a screenshot of every page, written to docs/screenshots/, on the real NYC data with
the demo flags of ``scenario.py``. Not part of the test run (the file name does not start with test_);
run it explicitly: ``pytest tests/browser/screenshots.py``."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from escalations.models import Project
from escalations.services import milestone_add, milestone_complete, project_update
from indicators.models import ThresholdRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# SCREENSHOT_WIDTH=390 SCREENSHOT_DIR=/tmp/narrow: the same pages as a phone shows them, to look at.
OUT = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "docs" / "screenshots")
WIDTH = int(os.environ.get("SCREENSHOT_WIDTH", "0"))


def test_screenshots(session, demo):
    OUT.mkdir(parents=True, exist_ok=True)
    pm = get_user_model().objects.get(username="pm")
    project = Project.objects.get()
    today = timezone.localdate()
    project = project_update(
        project=project, actor=pm, status="active", start_date=today, target_date=today + dt.timedelta(days=120)
    )
    milestone_complete(milestone=milestone_add(project=project, actor=pm, title="Agency kick-off meeting"), actor=pm)
    milestone_add(project=project, actor=pm, title="Recovery plan agreed", due=today + dt.timedelta(days=30))

    shots = [
        ("liaison", [
            ("01-dashboard", "/", {}),
            ("02-dashboard-red-only", "/?rag=red", {}),
            ("18-search", "/search/?q=pothole", {}),
            ("03-triage-queue", "/flags/", {}),
            ("04-flag-page", f"/flags/{demo['reviewed'].pk}/", {"open": ".action-escalate"}),
            ("05-indicator-page", f"/indicators/{demo['reviewed'].indicator_id}/", {}),
        ]),
        ("deputy", [
            ("06-deputy-inbox", "/inbox/", {"open": ".action-convert"}),
            ("14-briefing", "/briefings/OPS/", {}),
            ("15-notifications", "/notifications/", {}),
        ]),
        ("pm", [
            ("07-project-board", "/projects/", {}),
            ("08-project-page", f"/projects/{project.pk}/", {}),
        ]),
        ("auditor", [
            ("09-audit-log", "/audit/", {}),
            ("16-what-operations-did", "/reports/operations/?portfolio=OPS&start=2026-01-01", {}),
        ]),
        ("lead", [
            ("10-rules", "/ops/rules/", {}),
            ("11-rule-edit", f"/ops/rules/{ThresholdRule.objects.filter(kind='unusual_change').first().pk}/edit/", {}),
            ("12-check-runs", "/ops/check-runs/", {}),
            ("17-sla-policy", "/sla/", {}),
        ]),
    ]  # fmt: skip
    visitor = session()
    if WIDTH:
        visitor.page.set_viewport_size({"width": WIDTH, "height": 844})
    visitor.go("/accounts/login/")
    visitor.page.screenshot(path=OUT / "00-sign-in.png")
    for username, pages in shots:
        visitor.sign_in(username)
        for name, path, options in pages:
            visitor.go(path)
            if "open" in options:
                visitor.page.evaluate(f"document.querySelector('details{options['open']}').open = true")
            visitor.page.screenshot(
                path=OUT / f"{name}.png", full_page=name not in ("01-dashboard", "16-what-operations-did")
            )
        visitor.sign_out()

    # The import page's row-level report for a broken file.
    visitor.sign_in("lead")
    visitor.go("/ops/imports/")
    header = (
        "ID,Agency.Number,Agency.Full.Name.y,Service,Goal,Indicator,Desired.Direction,Critical,Target.MMR,2022,2023"
    )
    broken = (
        f"{header}\n1,827,Department of Sanitation,S,G,Tons,Sideways,No,NA,12,abc\n,827,DSNY,S,G,,Up,Maybe,NA,1,2\n"
    )
    visitor.page.set_input_files(
        "#id_file", files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": broken.encode()}]
    )
    visitor.page.click("main form button[type=submit]")
    visitor.page.wait_for_selector("[data-testid=import-report]")
    visitor.page.screenshot(path=OUT / "13-import-rejected.png", full_page=True)
    assert visitor.external == []
