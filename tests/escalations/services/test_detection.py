"""Cases and their signals as the check writes them: one case per indicator and category, signals that follow
the data while the case is worked, decisions that stick, pinned severities, cleared signals, re-raised cases
that say why; one event per case that changed and none for a re-run on unchanged data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.permissions import Role
from escalations import services
from escalations.audit_trail import Verb, audit_chain_verify
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Flag, FlagCategory, Notification, OutboxKind, OutboxMessage, Signal
from escalations.services.outbox import outbox_dispatch
from indicators.models import Indicator, Measurement, Rag, RuleKind

from ...factories import AgencyFactory, RuleFactory

User = get_user_model()

DAY1, DAY2, DAY3, DAY4 = (dt.date(2030, 1, d) for d in (1, 2, 3, 4))


def _set_latest(indicator, value) -> None:
    latest = indicator.measurements.order_by("-period").first()
    Measurement.objects.filter(pk=latest.pk).update(value=Decimal(str(value)))


def _add_period(indicator, value) -> None:
    latest = indicator.measurements.order_by("-period").first()
    Measurement.objects.create(
        indicator=indicator, period=latest.period.replace(year=latest.period.year + 1), value=Decimal(str(value))
    )


def _case_events():
    """The events of cases (a run started by hand also records itself, with no case)."""
    return Event.objects.filter(flag__isnull=False)


def _verbs(flag) -> list[str]:
    return list(Event.objects.filter(flag=flag).order_by("id").values_list("verb", flat=True))


@pytest.fixture
def yoy(only_rule):
    return only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)


def test_a_breach_opens_a_case_with_its_signal_and_one_event(series, yoy, run_check, agency):
    indicator = series([100, 94], agency=agency)
    run = run_check(DAY1)
    flag = Flag.objects.get()
    assert (flag.indicator, flag.status, flag.severity, flag.category) == (
        indicator,
        FlagStatus.DETECTED,
        "yellow",
        FlagCategory.PERFORMANCE,
    )
    signal = flag.signals.get()
    assert (signal.rule, signal.value, signal.baseline, signal.change) == (yoy, 94, 100, Decimal("-0.06"))
    assert (signal.measure, signal.unit, signal.yellow, signal.red) == (6, "percent", 5, 10)
    event = _case_events().get()
    assert (event.verb, event.flag, event.indicator, event.actor, event.actor_label) == (
        Verb.FLAG_DETECTED,
        flag,
        indicator,
        None,
        "nightly check",
    )
    assert event.data["signals"][0]["measure"] == "6.000000" and event.data["signals"][0]["unit"] == "percent"
    assert (run.status, run.flags_opened, run.flags_updated, run.flags_recovered) == ("succeeded", 1, 0, 0)


def test_two_rules_breaching_make_one_case_with_two_signals(series, only_rule, run_check):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    target = RuleFactory(kind=RuleKind.TARGET, yellow=0, red=10)
    series([100, 94], target=Decimal(100), target_kind="numeric")
    run_check(DAY1)
    flag = Flag.objects.get()
    assert sorted(flag.signals.values_list("rule__kind", flat=True)) == ["target", "year_over_year"]
    assert _case_events().count() == 1 and flag.severity == "yellow"
    assert Flag.objects.filter(signals__rule=target).get() == flag


def test_a_rerun_on_unchanged_data_writes_no_event(series, yoy, run_check):
    series([100, 94])
    run_check(DAY1)
    first = Signal.objects.get()
    run = run_check(DAY2)
    assert Signal.objects.get().last_seen_at > first.last_seen_at
    assert _case_events().count() == 1
    assert (run.flags_opened, run.flags_updated, run.flags_recovered) == (0, 0, 0)


def test_a_changed_value_or_severity_updates_the_signal_with_one_event_each(series, yoy, run_check):
    indicator = series([100, 94])
    run_check(DAY1)
    _set_latest(indicator, 93)  # still yellow, another value
    run_check(DAY2)
    _set_latest(indicator, 80)  # now red
    run = run_check(DAY3)
    flag = Flag.objects.get()
    assert _verbs(flag) == [Verb.FLAG_DETECTED, Verb.FLAG_REDETECTED, Verb.FLAG_REDETECTED]
    assert (flag.signals.get().value, flag.severity, run.flags_updated) == (80, "red", 1)
    last = Event.objects.order_by("-id").first()
    assert (last.data["old_severity"], last.data["severity"], last.data["signals"][0]["value"]) == (
        "yellow",
        "red",
        "80.000000",
    )


def test_a_pinned_severity_survives_every_rerun(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    flag = services.flag_set_severity(flag=Flag.objects.get(), actor=liaison, severity="red", reason="Public impact")
    _set_latest(indicator, "94.5")
    run_check(DAY2)
    run_check(DAY3, full=True)
    flag.refresh_from_db()
    assert (flag.severity, flag.severity_pinned, flag.signals.get().value) == ("red", True, Decimal("94.5"))
    assert flag.signals.get().severity == "yellow"  # the signal says what the rule measured
    _set_latest(indicator, 101)  # the breach clears: still the person's severity
    run_check(DAY4)
    flag.refresh_from_db()
    assert (flag.severity, flag.recovered_at is not None) == ("red", True)


def test_one_signal_clears_and_the_severity_follows_the_other_then_all_clear_stays_open(series, only_rule, run_check):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)
    RuleFactory(kind=RuleKind.TARGET, yellow=0, red=10)
    indicator = series([100, 80], target=Decimal(85), target_kind="numeric")  # yoy red (20 %), target yellow
    run_check(DAY1)
    flag = Flag.objects.get()
    assert flag.severity == "red"
    _set_latest(indicator, 84)  # yoy still red 16 %… make it clear instead:
    Measurement.objects.filter(indicator=indicator, period=dt.date(2015, 7, 1)).update(value=Decimal(84))
    run_check(DAY2)  # yoy: 84 vs 84, cleared; target: 84 vs 85, still yellow
    flag.refresh_from_db()
    signals = {s.rule.kind: s for s in flag.signals.select_related("rule")}
    assert signals["year_over_year"].cleared_at is not None and signals["target"].cleared_at is None
    assert (flag.severity, flag.recovered_at, flag.status) == ("yellow", None, FlagStatus.DETECTED)
    assert _verbs(flag)[-1] == Verb.FLAG_REDETECTED  # the target signal's value changed too
    _set_latest(indicator, 90)  # both clear
    run = run_check(DAY3)
    flag.refresh_from_db()
    assert flag.recovered_at is not None and flag.status == FlagStatus.DETECTED
    assert _verbs(flag)[-1] == Verb.FLAG_RECOVERED and Event.objects.last().data["all_clear"] is True
    assert run.flags_recovered == 1
    run_check(DAY4)
    assert len(_verbs(flag)) == 3  # recorded once


def test_a_cleared_signal_that_breaches_again_comes_back_on_the_open_case(series, yoy, run_check):
    indicator = series([100, 94])
    run_check(DAY1)
    _set_latest(indicator, 101)
    run_check(DAY2)
    _set_latest(indicator, 90)
    run_check(DAY3)
    flag = Flag.objects.get()
    assert (flag.recovered_at, flag.severity, flag.signals.get().cleared_at) == (None, "red", None)
    assert _verbs(flag) == [Verb.FLAG_DETECTED, Verb.FLAG_RECOVERED, Verb.FLAG_REDETECTED]


# --- decisions stick ------------------------------------------------------------------------------------


def test_a_dismissed_case_is_not_reraised_by_a_full_rerun_on_the_same_data(series, yoy, run_check, liaison, agency):
    series([100, 94], agency=agency)
    run_check(DAY1)
    services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="explained_by_agency", note="Known")
    events = _case_events().count()
    run = run_check(DAY2, full=True)
    assert Flag.objects.count() == 1 and _case_events().count() == events
    assert (run.flags_opened, run.flags_updated) == (0, 0)


def test_a_later_period_still_breaching_reraises_a_linked_case_that_says_why(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    old = services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="other", note="One-off")
    _add_period(indicator, "82.6")  # FY2018: 12.1 % below FY2017
    run = run_check(DAY2)
    new = Flag.objects.exclude(pk=old.pk).get()
    assert (new.status, new.previous_flag, run.flags_opened) == (FlagStatus.DETECTED, old, 1)
    assert new.reraise_reason == "FY2018 is still 12.1 % worse than a year earlier"
    event = Event.objects.get(flag=new)
    assert (event.verb, event.data["previous_flag"], event.data["reason"]) == (
        Verb.FLAG_REGRESSED,
        old.pk,
        new.reraise_reason,
    )


def test_a_restated_value_reraises(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    old = services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="data_error", note="Typo")
    _set_latest(indicator, 93)  # restated, still yellow, barely worse
    run_check(DAY2)
    new = Flag.objects.exclude(pk=old.pk).get()
    assert new.reraise_reason.startswith("the FY2017 value was restated from 94 to 93")


def test_a_small_worsening_does_not_reraise_a_material_one_does(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)  # 6 % worse
    Measurement.objects.filter(indicator=indicator).update(value=Decimal(0))
    Measurement.objects.filter(indicator=indicator, period=dt.date(2015, 7, 1)).update(value=Decimal(100))
    Measurement.objects.filter(indicator=indicator, period=dt.date(2016, 7, 1)).update(value=Decimal(94))
    old = services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="other", note="Watch it")
    # The baseline moves (a restated earlier year), the latest value stays: 9 % worse is 3 points more, less
    # than the yellow threshold of 5 beyond what the decision saw, and still yellow.
    Measurement.objects.filter(indicator=indicator, period=dt.date(2015, 7, 1)).update(value=Decimal("103.3"))
    run_check(DAY2)
    assert Flag.objects.count() == 1
    # 16 % worse: red (and 10 points beyond the 6 % the decision saw).
    Measurement.objects.filter(indicator=indicator, period=dt.date(2015, 7, 1)).update(value=Decimal("111.9"))
    run_check(DAY3)
    new = Flag.objects.exclude(pk=old.pk).get()
    assert new.reraise_reason.startswith("worsened from yellow to red")


def test_a_measure_worse_by_more_than_the_yellow_threshold_reraises(series, only_rule, run_check, liaison, agency):
    only_rule(RuleKind.YEAR_OVER_YEAR, 5, 50)  # red far away: only the measure can tell
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)  # 6 %
    old = services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="other", note="Watch it")
    Measurement.objects.filter(indicator=indicator, period=dt.date(2015, 7, 1)).update(value=Decimal("110.9"))
    run_check(DAY2)  # 15.2 %: 9.2 points more than the decision saw, beyond the yellow threshold of 5
    new = Flag.objects.exclude(pk=old.pk).get()
    assert new.reraise_reason.startswith("worsened from 6.0 % to 15.2 %")


def test_a_case_resolved_by_a_completed_project_is_not_reraised_for_the_same_period(
    series, yoy, run_check, liaison, lead, pm, agency
):
    series([100, 94], agency=agency)
    run_check(DAY1)
    flag = services.flag_review(flag=Flag.objects.get(), actor=liaison)
    flag = services.flag_convert(flag=flag, actor=lead, title="Fix it", owner=pm)
    services.project_update(project=flag.project, actor=pm, status="active")
    services.project_update(project=flag.project, actor=pm, status="completed", outcome="Done")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED
    run_check(DAY2, full=True)
    assert Flag.objects.count() == 1


def test_a_monitored_case_keeps_monitoring_for_the_same_thing_and_resumes_for_news(
    series, yoy, run_check, liaison, agency
):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    flag = services.flag_review(flag=Flag.objects.get(), actor=liaison)
    flag = services.flag_monitor(
        flag=flag, actor=liaison, until=timezone.localdate() + dt.timedelta(days=30), reason="Wait"
    )
    events = _case_events().count()
    run_check(DAY2, full=True)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.MONITORING and _case_events().count() == events
    assert flag.signals.get().value == 94  # as the monitoring decision saw it
    _add_period(indicator, 88)  # FY2018 still breaches
    run_check(DAY3)
    flag.refresh_from_db()
    resumed = Event.objects.filter(flag=flag).order_by("-id").first()
    assert (flag.status, resumed.verb, resumed.actor_label) == (
        FlagStatus.IN_REVIEW,
        Verb.FLAG_RESUMED,
        "nightly check",
    )
    assert resumed.data["reason"] == "FY2018 is still 6.4 % worse than a year earlier"
    assert flag.signals.get().value == 88  # worked again: it follows the data


def test_a_manual_case_takes_the_checks_signals(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    manual = services.flag_raise(indicator=indicator, actor=liaison, severity="red", summary="Matters a lot")
    run_check(DAY1)
    flag = Flag.objects.get()
    assert flag == manual and (flag.severity, flag.severity_pinned, flag.signals.count()) == ("red", True, 1)


def test_data_quality_rules_open_a_case_of_their_own(series, only_rule, run_check):
    only_rule(RuleKind.STALE, 0, 30)
    RuleFactory(kind=RuleKind.YEAR_OVER_YEAR, yellow=5, red=10)
    series([100, 80], start=dt.date(2020, 7, 1))
    run_check(dt.date(2024, 1, 1))
    assert sorted(Flag.objects.values_list("category", flat=True)) == ["data_quality", "performance"]
    stale = Signal.objects.get(rule__kind=RuleKind.STALE)
    assert (stale.unit, stale.measure) == ("days", Decimal(stale.measure).to_integral())


def test_many_cases_keep_the_audit_chain_intact(series, yoy, run_check):
    for i in range(30):
        series([100, 90 - i])
    run_check(DAY1, shard_size=7)  # five shards, each batch-inserting its events
    assert Flag.objects.count() == _case_events().count() == Signal.objects.count() == 30
    assert audit_chain_verify() is None


# --- colour is performance ------------------------------------------------------------------------------


def test_the_colour_is_what_the_check_measured_whatever_the_case_status(series, yoy, run_check, liaison, agency):
    indicator = series([100, 85], agency=agency)
    calm = series([100, 101], agency=agency)
    run_check(DAY1)
    assert Indicator.objects.get(pk=indicator.pk).rag == Rag.RED
    assert Indicator.objects.get(pk=calm.pk).rag == Rag.GREEN
    services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="explained_by_agency", note="Known")
    run_check(DAY2, full=True)
    assert Indicator.objects.get(pk=indicator.pk).rag == Rag.RED
    _set_latest(indicator, 102)
    run_check(DAY3)
    assert Indicator.objects.get(pk=indicator.pk).rag == Rag.GREEN


def test_rag_since_moves_only_when_the_colour_changes(series, yoy, run_check):
    indicator = series([100, 85])
    run_check(DAY1)
    since = Indicator.objects.get(pk=indicator.pk).rag_since
    run_check(DAY2, full=True)
    assert Indicator.objects.get(pk=indicator.pk).rag_since == since
    assert since <= timezone.now()


def test_new_red_cases_tell_their_agencys_liaisons_and_owe_nothing_where_nobody_would_be_told(
    series, yoy, run_check, liaison, agency, make_user
):
    followed = series([100, 80], agency=agency)
    unfollowed = series([100, 80], agency=AgencyFactory())  # no liaison at all
    idle_agency = AgencyFactory()
    idle = make_user(Role.LIAISON, agencies=[idle_agency], username="idle")
    User.objects.filter(pk=idle.pk).update(is_active=False)  # a liaison who left
    quiet = series([100, 80], agency=idle_agency)
    run_check(DAY1)
    detected = dict(Event.objects.filter(verb=Verb.FLAG_DETECTED).values_list("indicator_id", "pk"))
    assert set(detected) == {followed.pk, unfollowed.pk, quiet.pk}
    owed = [
        pk
        for payload in OutboxMessage.objects.filter(kind=OutboxKind.NOTIFY).values_list("payload", flat=True)
        for pk in payload["events"]
    ]
    assert owed == [detected[followed.pk]]
    outbox_dispatch()
    assert list(Notification.objects.values_list("user__username", "event_id")) == [("liaison", detected[followed.pk])]
