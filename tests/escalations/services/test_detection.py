"""Flag upsert semantics: open, redetect, pinned severity, recover, regress, resume; one event per change."""

import datetime as dt
from decimal import Decimal

import pytest

from escalations import services
from escalations.audit import Verb, audit_chain_verify
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Flag, FlagCategory
from indicators.models import Measurement, RuleKind

DAY1, DAY2, DAY3, DAY4 = (dt.date(2030, 1, d) for d in (1, 2, 3, 4))


def _set_latest(indicator, value) -> None:
    latest = indicator.measurements.order_by("-period").first()
    Measurement.objects.filter(pk=latest.pk).update(value=Decimal(str(value)))


def _verbs(flag) -> list[str]:
    return list(Event.objects.filter(flag=flag).order_by("id").values_list("verb", flat=True))


@pytest.fixture
def yoy(only_rule):
    return only_rule(RuleKind.YEAR_OVER_YEAR, 5, 10)


def test_a_breach_opens_a_flag_with_one_event(series, yoy, run_check, agency):
    indicator = series([100, 94], agency=agency)
    run = run_check(DAY1)
    flag = Flag.objects.get()
    assert (flag.indicator, flag.rule, flag.status, flag.severity) == (indicator, yoy, FlagStatus.DETECTED, "yellow")
    assert (flag.value, flag.baseline, flag.change, flag.detection_count) == (94, 100, Decimal("-0.06"), 1)
    assert flag.category == FlagCategory.PERFORMANCE
    event = Event.objects.get()
    assert (event.verb, event.flag, event.indicator, event.actor, event.actor_label) == (
        Verb.FLAG_DETECTED,
        flag,
        indicator,
        None,
        "nightly check",
    )
    assert (run.status, run.flags_opened, run.flags_updated, run.flags_recovered) == ("succeeded", 1, 0, 0)


def test_redetection_without_change_updates_the_flag_but_writes_no_event(series, yoy, run_check):
    series([100, 94])
    run_check(DAY1)
    first = Flag.objects.get()
    run = run_check(DAY2)
    flag = Flag.objects.get()
    assert flag.detection_count == 2 and flag.last_detected_at > first.last_detected_at
    assert Event.objects.count() == 1
    assert (run.flags_opened, run.flags_updated) == (0, 0)


def test_a_changed_value_or_severity_is_redetected(series, yoy, run_check):
    indicator = series([100, 94])
    run_check(DAY1)
    _set_latest(indicator, 93)  # still yellow, another value
    run_check(DAY2)
    _set_latest(indicator, 80)  # now red
    run = run_check(DAY3)
    flag = Flag.objects.get()
    assert _verbs(flag) == [Verb.FLAG_DETECTED, Verb.FLAG_REDETECTED, Verb.FLAG_REDETECTED]
    assert (flag.value, flag.severity, flag.detection_count, run.flags_updated) == (80, "red", 3, 1)
    last = Event.objects.order_by("-id").first()
    assert (last.data["old_value"], last.data["old_severity"], last.data["severity"]) == ("93.000000", "yellow", "red")


def test_a_pinned_severity_survives_redetection(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    flag = services.flag_set_severity(flag=Flag.objects.get(), actor=liaison, severity="red", reason="Public impact")
    _set_latest(indicator, "94.5")
    run_check(DAY2)
    flag.refresh_from_db()
    assert (flag.severity, flag.severity_pinned, flag.value) == ("red", True, Decimal("94.5"))
    assert _verbs(flag)[-1] == Verb.FLAG_REDETECTED  # the value changed
    run_check(DAY3)
    assert _verbs(flag)[-1] == Verb.FLAG_REDETECTED and len(_verbs(flag)) == 3  # nothing new


def test_a_cleared_breach_is_recorded_once_and_the_flag_stays_open(series, yoy, run_check):
    indicator = series([100, 94])
    run_check(DAY1)
    _set_latest(indicator, 101)
    run = run_check(DAY2)
    flag = Flag.objects.get()
    assert flag.status == FlagStatus.DETECTED and flag.recovered_at is not None
    assert run.flags_recovered == 1
    run_check(DAY3)
    assert _verbs(flag) == [Verb.FLAG_DETECTED, Verb.FLAG_RECOVERED]
    _set_latest(indicator, 90)  # the breach comes back on the still-open flag
    run_check(DAY4)
    flag.refresh_from_db()
    assert flag.recovered_at is None and flag.severity == "red"
    assert _verbs(flag)[-1] == Verb.FLAG_REDETECTED and Flag.objects.count() == 1


def test_a_breach_after_the_flag_was_closed_opens_a_linked_flag(series, yoy, run_check, liaison, agency):
    series([100, 94], agency=agency)
    run_check(DAY1)
    old = services.flag_dismiss(flag=Flag.objects.get(), actor=liaison, reason_code="other", note="Known")
    run = run_check(DAY2)
    new = Flag.objects.exclude(pk=old.pk).get()
    assert (new.status, new.previous_flag, run.flags_opened) == (FlagStatus.DETECTED, old, 1)
    assert _verbs(new) == [Verb.FLAG_REGRESSED]
    assert Event.objects.get(flag=new).data["previous_flag"] == old.pk


def test_a_monitored_flag_that_worsens_to_red_resumes_review(series, yoy, run_check, liaison, agency):
    indicator = series([100, 94], agency=agency)
    run_check(DAY1)
    flag = services.flag_review(flag=Flag.objects.get(), actor=liaison)
    flag = services.flag_monitor(flag=flag, actor=liaison, until=dt.date.today() + dt.timedelta(days=30), reason="Wait")
    _set_latest(indicator, 93)  # worse, still yellow: keeps monitoring
    run_check(DAY2)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.MONITORING
    _set_latest(indicator, 85)
    run_check(DAY3)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.IN_REVIEW
    resumed = Event.objects.filter(flag=flag).order_by("-id").first()
    assert (resumed.verb, resumed.actor_label) == (Verb.FLAG_RESUMED, "nightly check")


def test_data_quality_rules_open_data_quality_flags(series, only_rule, run_check):
    only_rule(RuleKind.STALE, 0, 30)
    series([1, 2], start=dt.date(2020, 7, 1))
    run_check(dt.date(2024, 1, 1))
    assert Flag.objects.get().category == FlagCategory.DATA_QUALITY


def test_many_flags_keep_the_audit_chain_intact(series, yoy, run_check):
    for i in range(30):
        series([100, 90 - i])
    run_check(DAY1, shard_size=7)  # five shards, each batch-inserting its events
    assert Flag.objects.count() == Event.objects.count() == 30
    assert audit_chain_verify() is None
    assert sorted(Flag.objects.values_list("id", flat=True)) == sorted(Event.objects.values_list("flag_id", flat=True))
