import datetime as dt

import pytest

from core.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, ProjectStatus

pytestmark = pytest.mark.django_db


def test_completing_a_project_resolves_its_flags_each_with_an_event(lead, deputy, pm, flag_in):
    first = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Backlog", owner=pm)
    second = services.flag_convert(flag=flag_in(FlagStatus.IN_REVIEW), actor=lead, project=first.project)
    project = services.project_update(project=first.project, actor=pm, status=ProjectStatus.ACTIVE)
    with pytest.raises(InvalidInput):
        services.project_update(project=project, actor=pm, status=ProjectStatus.COMPLETED)
    project = services.project_update(project=project, actor=pm, status=ProjectStatus.COMPLETED, outcome="Cleared")
    assert project.completed_at is not None
    for flag in (first, second):
        flag.refresh_from_db()
        assert flag.status == FlagStatus.RESOLVED
        resolved = Event.objects.get(flag=flag, verb="flag.resolved")
        assert resolved.actor is None and f"project #{project.pk}" in resolved.actor_label
    assert Event.objects.filter(project=project, verb="project.completed").count() == 1


def test_project_status_changes_follow_their_table(pm):
    project = services.project_create(actor=pm, title="T")
    project = services.project_update(project=project, actor=pm, status=ProjectStatus.CANCELLED)
    events = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.project_update(project=project, actor=pm, status=ProjectStatus.ACTIVE)
    assert Event.objects.count() == events


def test_project_update_records_old_and_new_and_no_change_writes_nothing(pm):
    project = services.project_create(actor=pm, title="T", target_date=dt.date(2027, 1, 1))
    services.project_update(project=project, actor=pm, title="Better title")
    event = Event.objects.filter(project=project).latest("id")
    assert event.data == {"changes": {"title": {"old": "T", "new": "Better title"}}}
    count = Event.objects.count()
    services.project_update(project=project, actor=pm, title="Better title")
    assert Event.objects.count() == count
    with pytest.raises(InvalidInput):
        services.project_update(project=project, actor=pm, start_date=dt.date(2027, 6, 1))


def test_only_project_managers_and_leads_run_projects(liaison, pm):
    with pytest.raises(ActionForbidden):
        services.project_create(actor=liaison, title="T")
    project = services.project_create(actor=pm, title="T")
    with pytest.raises(ActionForbidden):
        services.milestone_add(project=project, actor=liaison, title="M")


def test_milestones(pm):
    project = services.project_create(actor=pm, title="T")
    milestone = services.milestone_add(project=project, actor=pm, title="Hire", due=dt.date(2027, 3, 1))
    services.milestone_complete(milestone=milestone, actor=pm)
    services.milestone_complete(milestone=milestone, actor=pm)  # repeating changes nothing
    assert Event.objects.filter(project=project, verb="project.milestone_done").count() == 1
