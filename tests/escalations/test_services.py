"""What each service does beyond the status change: the rows it writes, the input it refuses, the work it
schedules after commit."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Decision, Escalation, Event, Flag, FlagOrigin, Note, NoteKind

from ..factories import FlagFactory, IndicatorFactory

pytestmark = pytest.mark.django_db


def test_review_assigns_the_reviewer_when_unassigned(liaison, agency):
    flag = services.flag_review(flag=FlagFactory(indicator__agency=agency), actor=liaison)
    assert flag.assignee == liaison
    assert Event.objects.get(flag=flag).data == {"assignee": "liaison"}


def test_set_severity_pins_it(liaison, agency):
    flag = FlagFactory(indicator__agency=agency)
    flag = services.flag_set_severity(flag=flag, actor=liaison, severity="red", reason="Affects schools")
    assert (flag.severity, flag.severity_pinned) == ("red", True)
    assert Event.objects.get(flag=flag).data == {"old": "yellow", "new": "red", "reason": "Affects schools"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"severity": "purple", "reason": "x"}, "severity"),
        ({"severity": "red", "reason": "  "}, "reason"),
    ],
)
def test_invalid_input_is_refused_and_writes_nothing(liaison, agency, kwargs, field):
    flag = FlagFactory(indicator__agency=agency)
    with pytest.raises(InvalidInput) as caught:
        services.flag_set_severity(flag=flag, actor=liaison, **kwargs)
    assert field in caught.value.fields
    assert not Event.objects.filter(flag=flag).exists()


def test_monitor_needs_a_future_date(liaison, flag_in):
    flag = flag_in(FlagStatus.IN_REVIEW)
    with pytest.raises(InvalidInput):
        services.flag_monitor(flag=flag, actor=liaison, until=timezone.localdate(), reason="wait")
    flag = services.flag_monitor(
        flag=flag, actor=liaison, until=timezone.localdate() + dt.timedelta(days=1), reason="wait"
    )
    assert flag.status == FlagStatus.MONITORING and flag.monitor_until is not None


def test_system_resume_records_the_system_actor(liaison, flag_in):
    flag = services.flag_resume(flag=flag_in(FlagStatus.MONITORING), system="monitoring ended")
    event = Event.objects.filter(flag=flag).latest("id")
    assert (event.actor, event.actor_label, event.verb) == (None, "monitoring ended", "flag.resumed")
    assert flag.monitor_until is None


def test_dismiss_needs_a_known_reason_code(liaison, agency):
    flag = FlagFactory(indicator__agency=agency)
    with pytest.raises(InvalidInput):
        services.flag_dismiss(flag=flag, actor=liaison, reason_code="bored", note="x")
    flag = services.flag_dismiss(flag=flag, actor=liaison, reason_code="duplicate", note="same as #1")
    assert (flag.status, flag.dismiss_reason) == (FlagStatus.DISMISSED, "duplicate")
    assert flag.closed_at is not None


def test_escalation_carries_agency_intelligence_and_notifies_the_deputy(
    liaison, deputy, flag_in, django_capture_on_commit_callbacks
):
    flag = flag_in(FlagStatus.IN_REVIEW)
    services.flag_add_note(flag=flag, actor=liaison, kind=NoteKind.AGENCY_INTEL, body="Two trucks down", source="call")
    with django_capture_on_commit_callbacks(execute=True):
        services.flag_escalate(flag=flag, actor=liaison, summary="Slipping", recommendation="Project")
    escalation = Escalation.objects.get(flag=flag)
    assert escalation.portfolio == flag.indicator.agency.portfolio
    assert escalation.agency_intelligence == "Two trucks down"
    assert [m.to for m in mail.outbox] == [[deputy.email]]
    assert flag.indicator.name in mail.outbox[0].subject


def test_notifications_wait_for_commit(liaison, deputy, flag_in, django_capture_on_commit_callbacks):
    flag = flag_in(FlagStatus.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.flag_escalate(flag=flag, actor=liaison, summary="Slipping", recommendation="Project")
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_return_records_the_decision_and_the_question(deputy, flag_in):
    flag = services.flag_return(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, question="Why now?")
    escalation = Escalation.objects.get(flag=flag)
    assert (escalation.decision, escalation.decided_by, escalation.decision_note) == (
        Decision.RETURNED,
        deputy,
        "Why now?",
    )
    assert Note.objects.get(flag=flag, kind=NoteKind.QUESTION).body == "Why now?"
    assert flag.status == FlagStatus.IN_REVIEW


def test_convert_creates_a_project_linked_to_the_flag(deputy, pm, flag_in):
    flag = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Fix it", owner=pm)
    project = flag.project
    assert (project.title, project.owner) == ("Fix it", pm)
    assert list(project.agencies.all()) == [flag.indicator.agency]
    assert Escalation.objects.get(flag=flag).decision == Decision.PROJECT
    event = Event.objects.filter(flag=flag).latest("id")
    assert (event.verb, event.project) == ("flag.converted", project)


def test_convert_links_an_existing_open_project(lead, deputy, flag_in):
    first = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Shared")
    second = services.flag_convert(flag=flag_in(FlagStatus.IN_REVIEW), actor=lead, project=first.project)
    assert second.project == first.project
    assert first.project.flags.count() == 2


def test_convert_refuses_a_project_owner_who_is_not_a_project_manager(deputy, liaison, flag_in):
    flag = flag_in(FlagStatus.ESCALATED)
    with pytest.raises(InvalidInput):
        services.flag_convert(flag=flag, actor=deputy, title="x", owner=liaison)
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.ESCALATED


def test_reopen_is_refused_while_a_newer_case_of_the_indicator_is_open(liaison, flag_in):
    old = flag_in(FlagStatus.DISMISSED)
    newer = FlagFactory(indicator=old.indicator)
    with pytest.raises(TransitionNotAllowed, match=f"Case #{newer.pk} is open"):
        services.flag_reopen(flag=old, actor=liaison, reason="again")


def test_manual_flag(liaison, agency, other_agency):
    flag = services.flag_raise(
        indicator=IndicatorFactory(agency=agency), actor=liaison, severity="red", summary="Small slip, big impact"
    )
    assert (flag.origin, flag.signals.count(), flag.status, flag.severity_pinned) == (
        FlagOrigin.MANUAL,
        0,
        "detected",
        True,
    )
    assert Event.objects.get(flag=flag).verb == "flag.created"
    with pytest.raises(ActionForbidden):
        services.flag_raise(indicator=IndicatorFactory(agency=other_agency), actor=liaison, severity="red", summary="x")
    # One case per indicator: a second one is refused while this one is open, and writes nothing.
    events = Event.objects.count()
    with pytest.raises(TransitionNotAllowed, match=f"Case #{flag.pk} is open"):
        services.flag_raise(indicator=flag.indicator, actor=liaison, severity="yellow", summary="again")
    assert Event.objects.count() == events


def test_notes_record_an_event_and_are_kept(liaison, deputy, flag_in):
    flag = flag_in(FlagStatus.ESCALATED)
    services.flag_add_note(flag=flag, actor=deputy, body="Commissioner called", source="phone")
    assert Note.objects.get(flag=flag, author=deputy).source == "phone"
    assert Event.objects.filter(flag=flag, verb="flag.noted").count() == 1


def test_one_open_case_per_indicator_and_category_is_enforced_by_the_database(agency):
    from django.db import IntegrityError, transaction

    flag = FlagFactory(indicator__agency=agency)
    with pytest.raises(IntegrityError), transaction.atomic():
        FlagFactory(indicator=flag.indicator)
    FlagFactory(indicator=flag.indicator, category="data_quality")  # the other category is another case
