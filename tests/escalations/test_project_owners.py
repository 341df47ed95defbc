"""A project's owner is told when given it (created with them as owner, made from a case, or changed to them),
through the outbox as every notification; milestones have an owner, can be edited, and the project shows how
much of it is done."""

import pytest
from django.core import mail

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Notification
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
