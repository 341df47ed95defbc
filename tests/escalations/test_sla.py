"""Business-day SLAs, overdue marking, the chain to the ops leads, and monitoring that wakes up."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from escalations import services
from escalations.deadlines import add_business_days
from escalations.lifecycle import FlagStatus
from escalations.models import Closure, Event, Flag, Notification
from escalations.services import sla as sla_services
from escalations.services.outbox import outbox_dispatch

from ..factories import FlagFactory, IndicatorFactory

NY = ZoneInfo("America/New_York")
# Wednesday before Thanksgiving 2026 (Thursday 26 November is a holiday), mid-morning in New York.
WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)


def test_business_days_skip_weekends_and_holidays(db):
    # Thu 26 Thanksgiving → Fri 27 is day 1, Sat/Sun skipped, Mon 30 is day 2.
    assert add_business_days(WEDNESDAY, 2) == dt.datetime(2026, 11, 30, 17, 0, tzinfo=NY)
    # Friday + 1 → Monday.
    assert add_business_days(dt.datetime(2026, 12, 4, 9, 0, tzinfo=NY), 1) == dt.datetime(2026, 12, 7, 17, 0, tzinfo=NY)


def test_local_closures_do_not_count(db):
    Closure.objects.create(date=dt.date(2026, 11, 27), name="Snow day")
    assert add_business_days(WEDNESDAY, 2) == dt.datetime(2026, 12, 1, 17, 0, tzinfo=NY)


@pytest.fixture
def red_flag(liaison, agency):
    """A red flag raised on the Wednesday before Thanksgiving: due Monday 30 November, 17:00."""
    with time_machine.travel(WEDNESDAY, tick=False):
        return services.flag_raise(
            indicator=IndicatorFactory(agency=agency), actor=liaison, severity="red", summary="Slipping"
        )


def test_due_dates_follow_the_policy_by_step(red_flag, liaison, deputy):
    assert red_flag.due_at == dt.datetime(2026, 11, 30, 17, 0, tzinfo=NY)
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=NY), tick=False):
        flag = services.flag_review(flag=red_flag, actor=liaison)
        assert flag.due_at is None  # in review: no deadline
        flag = services.flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="r")
    assert flag.due_at == dt.datetime(2026, 12, 7, 17, 0, tzinfo=NY)  # five business days for the decision


def test_overdue_is_marked_once_and_tells_the_agencys_liaisons(
    red_flag, make_user, agency, django_capture_on_commit_callbacks
):
    from core.permissions import Role

    colleague = make_user(Role.LIAISON, agencies=[agency], username="colleague")
    with time_machine.travel(dt.datetime(2026, 11, 30, 16, 59, tzinfo=NY), tick=False):
        assert sla_services.flags_mark_overdue() == 0
    with (
        time_machine.travel(dt.datetime(2026, 11, 30, 17, 1, tzinfo=NY), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sla_services.flags_mark_overdue() == 1
        assert sla_services.flags_mark_overdue() == 0
    assert Event.objects.filter(flag=red_flag, verb="flag.overdue").count() == 1
    assert Flag.objects.get(pk=red_flag.pk).overdue_at is not None
    # Nobody is assigned yet, so every liaison of the agency hears of it.
    told = {n.user for n in Notification.objects.filter(event__verb="flag.overdue")}
    assert told == {colleague, red_flag.indicator.agency.liaisons.get(username="liaison")}


def test_the_chain_reaches_the_ops_leads_only_while_nobody_acts(red_flag, lead, liaison):
    with time_machine.travel(dt.datetime(2026, 11, 30, 18, 0, tzinfo=NY), tick=False):
        sla_services.flags_mark_overdue()
    # Grace: one business day. Tuesday evening is not yet past it…
    with time_machine.travel(dt.datetime(2026, 12, 1, 16, 0, tzinfo=NY), tick=False):
        assert sla_services.flags_escalate_overdue_to_leads() == 0
    # …after it, the leads hear once, however often the job runs.
    with time_machine.travel(dt.datetime(2026, 12, 1, 17, 30, tzinfo=NY), tick=False):
        assert sla_services.flags_escalate_overdue_to_leads() == 1
        assert sla_services.flags_escalate_overdue_to_leads() == 0
        outbox_dispatch()
    assert Notification.objects.filter(user=lead, reason="overdue_lead").count() == 1
    assert any(lead.email in m.to for m in mail.outbox)


def test_the_chain_stops_once_someone_acts(red_flag, lead, liaison):
    with time_machine.travel(dt.datetime(2026, 11, 30, 18, 0, tzinfo=NY), tick=False):
        sla_services.flags_mark_overdue()
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=NY), tick=False):
        services.flag_add_note(flag=red_flag, actor=liaison, body="Called the agency")
    with time_machine.travel(dt.datetime(2026, 12, 3, 9, 0, tzinfo=NY), tick=False):
        assert sla_services.flags_escalate_overdue_to_leads() == 0
    assert not Notification.objects.filter(user=lead).exists()


def test_a_status_change_starts_a_new_clock(red_flag, liaison):
    with time_machine.travel(dt.datetime(2026, 11, 30, 18, 0, tzinfo=NY), tick=False):
        sla_services.flags_mark_overdue()
        flag = services.flag_review(flag=red_flag, actor=liaison)
    assert flag.overdue_at is None and flag.due_at is None


def test_monitoring_wakes_on_time(liaison, flag_in):
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=NY), tick=False):
        flag = services.flag_monitor(
            flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, until=dt.date(2026, 12, 10), reason="r"
        )
    assert sla_services.flags_resume_due_monitoring(today=dt.date(2026, 12, 9)) == 0
    assert sla_services.flags_resume_due_monitoring(today=dt.date(2026, 12, 10)) == 1
    assert sla_services.flags_resume_due_monitoring(today=dt.date(2026, 12, 10)) == 0
    flag.refresh_from_db()
    assert flag.status == FlagStatus.IN_REVIEW
    event = Event.objects.filter(flag=flag).latest("id")
    assert (event.verb, event.actor, event.actor_label) == ("flag.resumed", None, "monitoring ended")


def test_flags_without_deadline_are_never_overdue(agency):
    FlagFactory(indicator__agency=agency, due_at=None)
    assert sla_services.flags_mark_overdue() == 0
