"""A project in the browser: its owner adds a milestone with an owner, edits it, marks it done, and the
project page shows how much is done — accessible, and without sideways scrolling at 390 px."""

import pytest

from escalations.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_milestones_are_added_edited_and_counted(session, demo):
    visitor = session(bypass_csp=True)  # to inject axe-core
    page = visitor.page
    page.set_viewport_size({"width": 1366, "height": 900})
    visitor.sign_in("pm")
    project = Project.objects.get()
    visitor.go(f"/projects/{project.pk}/")
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

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    visitor.go(f"/projects/{project.pk}/milestones/{project.milestones.order_by('pk').last().pk}/edit/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert visitor.axe_violations() == []


def test_a_project_s_agencies_are_picked_from_a_list_filtered_as_one_types(session, demo):
    visitor = session(bypass_csp=True)  # to inject axe-core
    page = visitor.page
    page.set_viewport_size({"width": 390, "height": 844})
    visitor.sign_in("pm")
    visitor.go("/projects/new/")
    page.fill("[name=title]", "Faster street repairs")
    page.fill(".pick-many-filter", "transport")
    visible = page.locator("div.pick-many > div:visible")
    assert visible.count() == 1 and visible.inner_text().strip().startswith("DOT")
    visible.locator("input[type=checkbox]").check()
    page.fill(".pick-many-filter", "")
    assert page.locator("div.pick-many > div:visible").count() > 30  # every agency again, DOT still checked
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert visitor.axe_violations() == []
    page.click("main form button[type=submit]:has-text('Save')")
    page.wait_for_url("**/projects/*/")
    project = Project.objects.get(title="Faster street repairs")
    assert list(project.agencies.values_list("code", flat=True)) == ["DOT"]
