"""A project's owner is told when given it (created with them as owner, made from a case, or changed to them),
through the outbox as every notification; milestones have an owner, can be edited, and the project shows how
much of it is done."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from core.errors import InvalidInput, TransitionNotAllowed
from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Notification
from escalations.services.outbox import outbox_dispatch

pytestmark = pytest.mark.django_db


def owner_notices(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user, reason="project_owner").order_by("pk").values_list("title", flat=True)
    )


def test_a_new_project_tells_its_owner(lead, pm):
    project = services.project_create(actor=lead, title="Fix the backlog", owner=pm)
    outbox_dispatch()
    assert owner_notices(pm) == ["A project is yours to run: Fix the backlog"]
    notice = Notification.objects.get(user=pm)  # told once, not also as "project created"
    assert notice.url == f"/projects/{project.pk}/"
    assert [m.to for m in mail.outbox] == [[pm.email]]
    assert "yours to run" in mail.outbox[0].subject


def test_a_project_without_owner_or_made_by_its_owner_tells_nobody_it_is_theirs(lead, pm):
    services.project_create(actor=lead, title="Nobody's yet")
    services.project_create(actor=pm, title="My own")
    outbox_dispatch()
    assert Notification.objects.filter(reason="project_owner").count() == 0


def test_a_case_made_a_project_tells_the_new_projects_owner(deputy, pm, flag_in):
    flag = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Turn around", owner=pm)
    outbox_dispatch()
    assert owner_notices(pm) == ["A project is yours to run: Turn around"]
    assert Notification.objects.get(user=pm).url == f"/projects/{flag.project_id}/"


def test_a_case_added_to_an_existing_project_does_not_tell_its_owner_again(lead, deputy, pm, flag_in):
    first = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Turn around", owner=pm)
    services.flag_convert(flag=flag_in(FlagStatus.IN_REVIEW), actor=lead, project=first.project)
    outbox_dispatch()
    assert owner_notices(pm) == ["A project is yours to run: Turn around"]


def test_changing_the_owner_tells_the_new_one(lead, pm, make_user):
    other = make_user(Role.PROJECT_MANAGER, username="other_pm")
    project = services.project_create(actor=lead, title="Handover", owner=pm)
    services.project_update(project=project, actor=lead, owner=other)
    services.project_update(project=project, actor=lead, title="Handover, renamed")  # no new owner: nobody told
    outbox_dispatch()
    # Each told of their own turn only, the project named as it is now.
    assert owner_notices(other) == ["A project is yours to run: Handover, renamed"]
    assert owner_notices(pm) == ["A project is yours to run: Handover, renamed"]


# ------------------------------------------------------------------------------------------------ milestones
def test_a_milestone_is_edited_with_one_event_naming_old_and_new(pm, liaison):
    project = services.project_create(actor=pm, title="T")
    milestone = services.milestone_add(project=project, actor=pm, title="Hire", due=dt.date(2027, 3, 1))
    milestone = services.milestone_update(
        milestone=milestone, actor=pm, title="Hire two", due=dt.date(2027, 4, 1), owner=liaison
    )
    assert (milestone.title, milestone.due, milestone.owner) == ("Hire two", dt.date(2027, 4, 1), liaison)
    event = Event.objects.get(verb="project.milestone_updated")
    assert event.project == project
    assert event.data["changes"]["owner"] == {"old": None, "new": "liaison"}
    assert event.data["changes"]["due"] == {"old": "2027-03-01", "new": "2027-04-01"}
    # The same values again change nothing and write nothing.
    services.milestone_update(milestone=milestone, actor=pm, title="Hire two", owner=liaison)
    assert Event.objects.filter(verb="project.milestone_updated").count() == 1


def test_a_milestone_edit_is_refused_before_writing(pm, liaison):
    project = services.project_create(actor=pm, title="T")
    milestone = services.milestone_add(project=project, actor=pm, title="Hire")
    events = Event.objects.count()
    with pytest.raises(InvalidInput):
        services.milestone_update(milestone=milestone, actor=pm, title="  ")
    with pytest.raises(InvalidInput):
        services.milestone_update(milestone=milestone, actor=pm, done_at=None)
    services.project_update(project=project, actor=pm, status="cancelled")
    events = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.milestone_update(milestone=milestone, actor=pm, title="Later")
    assert Event.objects.count() == events
    milestone.refresh_from_db()
    assert milestone.title == "Hire"


def test_the_project_page_edits_milestones_and_shows_how_much_is_done(client, pm, liaison):
    project = services.project_create(actor=pm, title="T")
    first = services.milestone_add(project=project, actor=pm, title="Hire")
    for title in ("Train", "Deploy"):
        services.milestone_add(project=project, actor=pm, title=title)
    services.milestone_complete(milestone=first, actor=pm)
    client.force_login(pm)
    page = client.get(reverse("project_detail", args=[project.pk])).text
    assert "33 % done" in page and "1 of 3 milestones done" in page

    edit = reverse("project_milestone_edit", args=[project.pk, first.pk + 1])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"title": "Train the crews", "due": "2027-05-01", "owner": liaison.pk})
    assert response.status_code == 302
    page = client.get(reverse("project_detail", args=[project.pk])).text
    assert "Train the crews" in page and "due 2027-05-01" in page
    assert "changed the milestone “Train the crews”" in page  # the timeline tells it
    assert client.post(edit, {"title": ""}).status_code == 400


def test_a_milestone_edit_page_refuses_who_runs_no_project(client, pm, liaison):
    project = services.project_create(actor=pm, title="T")
    milestone = services.milestone_add(project=project, actor=pm, title="Hire")
    client.force_login(liaison)
    edit = reverse("project_milestone_edit", args=[project.pk, milestone.pk])
    assert client.post(edit, {"title": "X"}).status_code == 403
    milestone.refresh_from_db()
    assert milestone.title == "Hire"


# ------------------------------------------------------------------------------ the trend since the start
@pytest.mark.parametrize(
    ("values", "shown", "recovered"),
    [
        ([80, 70, 60, 65], "✓ Recovered since the project started", "yes"),  # better than FY2018's 60
        ([80, 70, 60, 55], "✗ Not recovered yet", "no"),
        ([80, 70], "Not measured since the project started", "unknown"),
    ],
)
def test_the_project_page_says_whether_the_indicator_recovered_since_it_started(
    client, agency, liaison, lead, pm, series, values, shown, recovered
):
    """A case raised by hand has no baseline: the value when the project started (FY2018's, 60, for a start
    in March 2018) is the mark; higher is better here."""
    indicator = series(values, agency=agency, desired_direction="up")
    flag = services.flag_raise(indicator=indicator, actor=liaison, severity="red", summary="Falling")
    flag = services.flag_review(flag=flag, actor=liaison)
    flag = services.flag_convert(flag=flag, actor=lead, title="Turn around", owner=pm)
    services.project_update(project=flag.project, actor=pm, start_date=dt.date(2018, 3, 1))
    client.force_login(pm)
    page = client.get(reverse("project_detail", args=[flag.project_id])).text
    assert shown in page
    assert f'data-recovered="{recovered}"' in page
    assert "project start 2018-03-01" in page  # the chart's marker and its legend
