"""Who hears what, exactly once."""

import pytest
from django.core import mail

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import EmailMode, Event, Notification, NotificationPreference
from escalations.services.notifications import (
    digests_send,
    notifications_create,
    notifications_create_many,
    notifications_mark_read,
)
from escalations.services.outbox import outbox_dispatch

from ..factories import AgencyFactory, IndicatorFactory

pytestmark = pytest.mark.django_db


def test_creating_twice_notifies_and_emails_once(liaison, deputy, flag_in):
    flag = services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    event = Event.objects.get(flag=flag, verb="flag.escalated")
    notifications_create(event_id=event.pk)
    notifications_create(event_id=event.pk)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["deputy"]
    assert mail.outbox == []  # owed: the outbox's dispatcher sends it
    outbox_dispatch()
    outbox_dispatch()
    assert [m.to for m in mail.outbox] == [[deputy.email]]


def test_decisions_go_back_to_the_liaison_who_escalated(liaison, deputy, flag_in):
    flag = services.flag_return(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, question="Why?")
    notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.returned").pk)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["liaison"]


def test_a_new_red_flag_tells_the_agencys_liaisons_but_not_the_one_who_raised_it(make_user, agency, liaison):
    other = make_user(Role.LIAISON, agencies=[agency], username="other")
    flag = services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=liaison, severity="red", summary="s")
    notifications_create(event_id=Event.objects.get(flag=flag).pk)
    assert [n.user for n in Notification.objects.all()] == [other]


def test_project_completion_tells_the_owner_and_the_escalating_liaison(liaison, deputy, pm, flag_in):
    flag = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="P", owner=pm)
    project = services.project_update(project=flag.project, actor=pm, status="active")
    project = services.project_update(project=project, actor=pm, status="completed", outcome="Done")
    notifications_create(event_id=Event.objects.get(project=project, verb="project.completed").pk)
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"liaison"}  # pm acted


def test_digest_users_get_one_email_a_day(liaison, deputy, flag_in):
    NotificationPreference.objects.create(user=deputy, email_mode=EmailMode.DIGEST)
    for _ in range(2):
        flag = services.flag_escalate(
            flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r"
        )
        notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.escalated").pk)
    outbox_dispatch()
    assert mail.outbox == []
    assert digests_send() == 1
    assert digests_send() == 0
    outbox_dispatch()
    assert len(mail.outbox) == 1 and "2 update(s)" in mail.outbox[0].subject
    assert digests_send() == 0  # nothing left to tell


def test_mark_read(liaison, deputy, flag_in):
    flag = services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.escalated").pk)
    assert notifications_mark_read(user=deputy) == 1
    assert notifications_mark_read(user=deputy) == 0


def test_a_step_nobody_needs_to_hear_of_notifies_nobody(liaison, flag_in):
    flag = services.flag_review(flag=flag_in(FlagStatus.DETECTED), actor=liaison)
    assert notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.reviewed").pk) == []
    assert not Notification.objects.exists()


def test_a_shards_new_red_flags_notify_their_liaisons_in_a_fixed_number_of_queries(
    make_user, agency, liaison, django_assert_max_num_queries
):
    other = make_user(Role.LIAISON, agencies=[agency], username="other")
    actor = make_user(Role.OPS_LEAD)
    flags = [
        services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=actor, severity="red", summary="s")
        for _ in range(6)
    ]
    ids = list(Event.objects.filter(flag__in=flags).values_list("pk", flat=True))
    # Reading the events, one look-up of the agency's liaisons, the insert, the read-back, and the e-mails owed
    # (one insert into the outbox), in a savepoint: the same for six flags as it would be for six hundred.
    with django_assert_max_num_queries(5 + 2):
        created = notifications_create_many(event_ids=ids)
    assert sorted((n.user.username, n.event_id) for n in created) == sorted(
        (user.username, pk) for user in (liaison, other) for pk in ids
    )
    outbox_dispatch()
    assert len(mail.outbox) == 12


def test_an_escalation_without_a_portfolio_goes_to_the_ops_leads_who_are_told_why(make_user, lead, deputy):
    agency = AgencyFactory(portfolio=None, name="Orphan Agency")
    liaison = make_user(Role.LIAISON, agencies=[agency], username="orphan_liaison")
    flag = services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=liaison, severity="yellow", summary="s")
    flag = services.flag_review(flag=flag, actor=liaison)
    services.flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="r")
    outbox_dispatch()  # the path every notification takes: the outbox, then its dispatcher

    told = Notification.objects.get(event__verb="flag.escalated")
    assert told.user == lead  # not the deputy mayor's office of another portfolio, nor nobody
    assert told.title.startswith("Escalated with no deputy mayor to decide")
    assert "Orphan Agency belongs to no portfolio" in " ".join(told.body.split())
    assert [m.to for m in mail.outbox] == [[lead.email]]
    assert "no deputy mayor" in mail.outbox[0].subject


def test_an_escalation_with_a_portfolio_does_not_tell_the_ops_leads(liaison, lead, deputy, flag_in):
    services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    outbox_dispatch()
    told = Notification.objects.get(event__verb="flag.escalated")
    assert told.user == deputy and told.title.startswith("Escalated:")
    assert "no portfolio" not in told.body
