"""A project in the browser at 390 and 1,366 px: its owner is told it is theirs, adds a milestone with an
owner, edits it, marks it done, and the project page shows how much is done; its trend chart marks the day the
project started and the page says whether the indicator recovered since; its agencies are picked from a list
filtered as one types — accessible, and without sideways scrolling."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from escalations.models import Project
from escalations.services import project_update
from indicators.models import Measurement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_owner_is_told_and_milestones_are_added_edited_and_counted(session, demo, width):
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("pm")
    project = Project.objects.get()
    # Given the project when the case was converted (the demo's story): told it is theirs, with a link.
    visitor.go("/notifications/")
    told = page.locator("table.notifications a", has_text=f"A project is yours to run: {project.title}")
    assert told.count() == 1
    assert not scrolls_sideways(page)
    told.click()
    page.wait_for_url(f"**/projects/{project.pk}/")
    for title in ("Hire two inspectors", "Clear the backlog"):
        page.fill(".milestone-form [name=title]", title)
        page.click(".milestone-form button[type=submit]")
        page.wait_for_selector(f"ul.milestones li:has-text('{title}')")

    page.click("ul.milestones li:has-text('Hire two inspectors') a:has-text('Edit')")
    page.fill("[name=title]", "Hire three inspectors")
    page.fill("[name=due]", "2027-03-31")
    page.select_option("[name=owner]", label="Pat Manager (pm)")
    page.click("button:has-text('Save')")
    item = page.locator("ul.milestones li", has_text="Hire three inspectors")
    assert "due 2027-03-31" in item.inner_text() and "Pat Manager" in item.inner_text()

    item.locator("button:has-text('Mark done')").click()
    progress = page.locator("[data-testid=project-progress]")
    assert progress.inner_text().startswith("50 % done — 1 of 2 milestones done")
    assert visitor.axe_violations() == []
    assert not scrolls_sideways(page)
    visitor.go(f"/projects/{project.pk}/milestones/{project.milestones.order_by('pk').last().pk}/edit/")
    assert not scrolls_sideways(page)
    assert visitor.axe_violations() == []


def recovered(direction: str, reference, value) -> bool:
    """The indicator is back at or better than ``reference`` in its desired direction."""
    return {"up": value >= reference, "down": value <= reference}.get(direction, value == reference)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trend_chart_marks_the_project_s_start_and_says_whether_it_recovered(session, demo, width):
    project = Project.objects.get()
    flag = project.flags.get()
    indicator = flag.indicator
    values = list(Measurement.objects.filter(indicator=indicator).order_by("period"))
    assert len(values) >= 3
    before, after = values[-2], values[-1]
    start = before.period + (after.period - before.period) / 2  # between the last two values
    pm = get_user_model().objects.get(username="pm")
    project_update(project=project, actor=pm, status="active", start_date=start)
    lead = flag.lead_signal
    reference = lead.baseline if lead is not None and lead.baseline is not None else before.value

    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("pm")
    visitor.go(f"/projects/{project.pk}/")
    chart = page.locator("svg.series-chart").first
    marker = chart.locator("line.since")
    assert marker.count() == 1
    points = chart.locator("circle.point").all()
    assert len(points) == len(values)
    x = marker.bounding_box()["x"]
    left, right = (p.bounding_box() for p in points[-2:])
    assert left["x"] + left["width"] / 2 < x < right["x"] + right["width"] / 2  # between the two periods
    label = chart.locator("text.since-label")
    assert label.text_content() == f"project start {start.isoformat()}"
    box, frame = label.bounding_box(), chart.bounding_box()
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]  # not cut off
    legend = page.locator("figure.chart figcaption").first.inner_text()
    assert f"project start {start.isoformat()}" in legend
    assert f"project started {start.isoformat()}" in chart.locator("desc").text_content()  # the text alternative

    recovery = page.locator("[data-testid=recovery]").first
    expected = recovered(indicator.desired_direction, reference, after.value)
    assert recovery.get_attribute("data-recovered") == ("yes" if expected else "no")
    words = recovery.inner_text()
    assert words.startswith("✓ Recovered since the project started" if expected else "✗ Not recovered yet"), words
    assert not scrolls_sideways(page)
    assert visitor.axe_violations() == []

    # Started after the last value: the marker stands at the right edge, and nothing was measured since.
    later = after.period + dt.timedelta(days=40)
    project_update(project=project, actor=pm, start_date=later)
    visitor.go(f"/projects/{project.pk}/")
    chart = page.locator("svg.series-chart").first
    x = chart.locator("line.since").bounding_box()["x"]
    assert x > chart.locator("circle.point").last.bounding_box()["x"]
    assert (
        page.locator("[data-testid=recovery]").first.inner_text().startswith("Not measured since the project started")
    )
    assert not scrolls_sideways(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_project_s_agencies_are_picked_from_a_list_filtered_as_one_types(session, demo, width):
    visitor = session(bypass_csp=True, width=width)  # to inject axe-core
    page = visitor.page
    visitor.sign_in("pm")
    visitor.go("/projects/new/")
    page.fill("[name=title]", "Faster street repairs")
    page.fill(".pick-many-filter", "transport")
    visible = page.locator("div.pick-many > div:visible")
    assert visible.count() == 1 and visible.inner_text().strip().startswith("DOT")
    visible.locator("input[type=checkbox]").check()
    page.fill(".pick-many-filter", "")
    assert page.locator("div.pick-many > div:visible").count() > 30  # every agency again, DOT still checked
    assert not scrolls_sideways(page)
    assert visitor.axe_violations() == []
    page.click("main form button[type=submit]:has-text('Save')")
    page.wait_for_url("**/projects/*/")
    project = Project.objects.get(title="Faster street repairs")
    assert list(project.agencies.values_list("code", flat=True)) == ["DOT"]
