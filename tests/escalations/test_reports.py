"""The briefing and the "what did Operations do" history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.reports import briefing_for, flags_raised, indicator_history, operations_history

from ..factories import IndicatorFactory, MeasurementFactory

pytestmark = pytest.mark.django_db
ALWAYS = {"start": dt.date(2000, 1, 1), "end": dt.date(2100, 1, 1)}


def test_briefing_lists_awaiting_escalations_with_series_and_intelligence(liaison, deputy, flag_in, agency):
    flags = [flag_in(FlagStatus.IN_REVIEW) for _ in range(3)]
    for number, flag in enumerate(flags):
        MeasurementFactory(indicator=flag.indicator, period=dt.date(2021, 7, 1), value=Decimal(100))
        MeasurementFactory(indicator=flag.indicator, period=dt.date(2022, 7, 1), value=Decimal(90))
        services.flag_add_note(flag=flag, actor=liaison, kind="agency_intel", body=f"intel {number}")
        services.flag_escalate(flag=flag, actor=liaison, summary=f"summary {number}", recommendation="project")
    since = timezone.now()
    services.flag_delegate(flag=flags[0], actor=deputy, note="We call the commissioner")

    briefing = briefing_for(user=deputy, portfolio=agency.portfolio, since=since)
    assert [item.escalation.summary for item in briefing.awaiting] == ["summary 1", "summary 2"]
    assert [[n.body for n in item.intelligence] for item in briefing.awaiting] == [["intel 1"], ["intel 2"]]
    assert [len(item.series) for item in briefing.awaiting] == [2, 2]
    assert [e.decision_note for e in briefing.decided] == ["We call the commissioner"]


def test_indicator_history_tells_each_step_in_order(liaison, lead, deputy, pm, agency):
    indicator = IndicatorFactory(agency=agency)
    flag = services.flag_raise(indicator=indicator, actor=liaison, severity="red", summary="Response times slipping")
    flag = services.flag_review(flag=flag, actor=liaison)
    services.flag_add_note(flag=flag, actor=liaison, kind="agency_intel", body="Two vacancies")
    flag = services.flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="project")
    flag = services.flag_convert(flag=flag, actor=deputy, title="Staffing plan", owner=pm)
    services.project_update(project=flag.project, actor=pm, status="active")
    services.project_update(project=flag.project, actor=pm, status="completed", outcome="Hired two")

    verbs = [event.verb for event in indicator_history(user=lead, indicator=indicator)]
    assert verbs == [
        "flag.created",
        "flag.reviewed",
        "flag.noted",
        "flag.escalated",
        "flag.converted",
        "project.updated",
        "project.completed",
        "flag.resolved",
    ]
    [story] = operations_history(user=lead, flags=flags_raised(user=lead, **ALWAYS))
    assert story.closed_how == "project “Staffing plan” (completed) — Hired two"
    assert [e.verb for e in story.events] == verbs


def test_recovery_is_judged_by_the_desired_direction(liaison, lead, agency):
    indicator = IndicatorFactory(agency=agency, desired_direction="down")
    from ..factories import FlagFactory

    flag = FlagFactory(
        indicator=indicator, signal__period=dt.date(2021, 7, 1), signal__value=Decimal(12), signal__baseline=Decimal(10)
    )
    MeasurementFactory(indicator=indicator, period=dt.date(2022, 7, 1), value=Decimal(9))
    [story] = operations_history(user=lead, flags=flags_raised(user=lead, **ALWAYS))
    assert story.flag == flag and story.value_after == Decimal(9) and story.recovered is True


def test_out_of_scope_flags_are_not_in_anyones_report(liaison, other_agency, lead):
    services.flag_raise(indicator=IndicatorFactory(agency=other_agency), actor=lead, severity="red", summary="x")
    assert not flags_raised(user=liaison, **ALWAYS).exists()


def test_history_from_detection_to_resolution_tells_each_step_in_order(
    series, only_rule, run_check, liaison, lead, deputy, pm, agency
):
    """The oversight question, end to end: the nightly check flags a slip, the liaison escalates, the deputy
    mayor makes it a project, the project completes, and a later value shows whether the indicator recovered."""
    from escalations.models import Flag

    only_rule("year_over_year", 5, 10)
    indicator = series([100, 80], agency=agency, desired_direction="up")  # FY2016 100 → FY2017 80: red
    run_check(dt.date(2017, 10, 31))
    flag = Flag.objects.get(indicator=indicator)
    flag = services.flag_review(flag=flag, actor=liaison)
    services.flag_add_note(flag=flag, actor=liaison, kind="agency_intel", body="Staffing gap")
    flag = services.flag_escalate(flag=flag, actor=liaison, summary="Red slip", recommendation="Project")
    flag = services.flag_convert(flag=flag, actor=deputy, title="Recovery plan", owner=pm)
    services.project_update(project=flag.project, actor=pm, status="active")
    services.project_update(project=flag.project, actor=pm, status="completed", outcome="Back above 100")
    MeasurementFactory(indicator=indicator, period=dt.date(2017, 7, 1), value=Decimal(104))

    events = indicator_history(user=lead, indicator=indicator)
    assert [(e.verb, e.actor_name) for e in events] == [
        ("flag.detected", "nightly check"),
        ("flag.reviewed", "liaison"),
        ("flag.noted", "liaison"),
        ("flag.escalated", "liaison"),
        ("flag.converted", "deputy"),
        ("project.updated", "pm"),
        ("project.completed", "pm"),
        ("flag.resolved", f"project #{flag.project_id} completed by pm"),
    ]
    [story] = operations_history(user=lead, flags=flags_raised(user=lead, **ALWAYS))
    assert story.closed_how == "project “Recovery plan” (completed) — Back above 100"
    assert (story.value_after, story.recovered) == (Decimal(104), True)
