"""Every event reads as a sentence for staff: no raw dict, JSON, code or ``None``; people by name; reason codes
by their labels; and, where a page shows several cases' events, each labelled with its case."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations import services
from escalations.audit_trail import Verb
from escalations.models import Event
from escalations.wording import TELLERS, event_lines, event_sentence

from ..factories import FlagFactory, UserFactory
from .test_every_write_is_recorded import CASES, World

pytestmark = pytest.mark.django_db

# What each verb's event records, as its service writes it (the services' own events are checked below too).
SAMPLES: dict[str, dict] = {
    Verb.FLAG_CREATED: {"severity": "red", "summary": "Worse every month"},
    Verb.FLAG_DETECTED: {"signals": [], "severity": "yellow"},
    Verb.FLAG_REDETECTED: {"signals": [], "cleared": [3], "severity": "red", "old_severity": "yellow"},
    Verb.FLAG_RECOVERED: {"cleared": [3], "all_clear": True, "severity": "yellow", "old_severity": "red"},
    Verb.FLAG_REGRESSED: {"signals": [], "severity": "red", "previous_flag": 7, "reason": "FY2025 is 12.0 % worse"},
    Verb.FLAG_MERGED: {"merged": [4, 5], "severity": "red", "old_severity": "yellow", "reason": "one case"},
    Verb.FLAG_OVERDUE: {"due_at": "2026-11-30T14:00:00Z", "status": "in_review"},
    Verb.FLAG_REVIEWED: {"assignee": "dana"},
    Verb.FLAG_ASSIGNED: {"old": None, "new": "dana"},
    Verb.FLAG_SEVERITY_SET: {"old": "yellow", "new": "red", "reason": "matters to the public"},
    Verb.FLAG_MONITORED: {"until": "2022-11-15", "reason": "Wait for the next month"},
    Verb.FLAG_RESUMED: {"monitor_until": "2022-11-15", "reason": "monitoring until 2022-11-15 ended"},
    Verb.FLAG_DISMISSED: {"reason_code": "explained_by_agency", "note": "one-off vendor delay"},
    Verb.FLAG_ESCALATED: {"escalation": 3, "portfolio": None, "summary": "Slipping", "recommendation": "A project"},
    Verb.FLAG_RETURNED: {"escalation": 3, "question": "What does the agency say?"},
    Verb.FLAG_DELEGATED: {"escalation": 3, "note": "With the commissioner"},
    Verb.FLAG_CONVERTED: {"project": 9, "title": "Fix the backlog", "new_project": True, "escalation": None},
    Verb.FLAG_RESOLVED: {"resolution": "Back on track"},
    Verb.FLAG_REOPENED: {"reason": "It came back", "old": {"dismiss_reason": "expected_seasonal", "resolution": ""}},
    Verb.FLAG_NOTED: {"note": 4, "body": "Staffing is short", "kind": "agency_intel", "source": ""},
    Verb.PROJECT_CREATED: {"title": "Fix the backlog", "owner": "dana", "agencies": ["DOT"]},
    Verb.PROJECT_UPDATED: {
        "changes": {"owner": {"old": None, "new": "dana"}, "target_date": {"old": None, "new": "2027-01-31"}}
    },
    Verb.PROJECT_COMPLETED: {"changes": {"outcome": {"old": "", "new": "Backlog cleared"}}},
    Verb.PROJECT_CANCELLED: {"changes": {}},
    Verb.MILESTONE_ADDED: {"milestone": 1, "title": "Hire", "due": None},
    Verb.MILESTONE_DONE: {"milestone": 1, "title": "Hire"},
    Verb.MILESTONE_UPDATED: {
        "milestone": 1,
        "title": "Hire",
        "changes": {"owner": {"old": None, "new": "dana"}, "due": {"old": None, "new": "2027-03-01"}},
    },
    Verb.AUDIT_CHAIN_BROKEN: {"event": 12, "problem": "its hash does not match its content"},
    Verb.INDICATOR_MERGED: {
        "merged": {"id": 4, "external_id": "MMR-311-311-calls-000", "name": "311 calls (000)"},
        "values_moved": 4,
        "periods_in_both": 1,
        "values_kept_as_revisions": 1,
        "conflicts": [{"period": "2021-07-01", "kept": "20", "other": "21"}],
        "cases_moved": [7],
        "rules_moved": [],
        "breakouts_moved": 0,
        "tolerance_taken": None,
    },
    Verb.RULE_CREATED: {
        "rule": 1,
        "name": "Drop",
        "changes": {
            "kind": {"old": None, "new": "year_over_year"},
            "yellow": {"old": None, "new": "5"},
            "params": {"old": None, "new": {"min_history": 3}},
        },
    },
    Verb.RULE_UPDATED: {"rule": 1, "name": "Drop", "changes": {"red": {"old": "10", "new": "15"}}},
    Verb.RULE_ACTIVATED: {"rule": 1, "name": "Drop", "changes": {"active": {"old": False, "new": True}}},
    Verb.RULE_DEACTIVATED: {"rule": 1, "name": "Drop", "changes": {"active": {"old": True, "new": False}}},
    Verb.RULE_DELETED: {"rule": 1, "name": "Drop", "changes": {"name": {"old": "Drop", "new": None}}},
    Verb.INDICATOR_TUNED: {
        "changes": {"tolerance": {"old": "5", "new": "10"}, "tolerance_rationale": {"old": "", "new": "Seasonal"}}
    },
    Verb.INDICATOR_UPDATED: {
        "changes": {"desired_direction": {"old": "up", "new": "down"}, "target_kind": {"old": "tbd", "new": "numeric"}}
    },
    Verb.AGENCY_CREATED: {"agency": 1, "code": "DOT", "changes": {"code": {"old": None, "new": "DOT"}}},
    Verb.AGENCY_UPDATED: {"agency": 1, "code": "DOT", "changes": {"budget_number": {"old": None, "new": "841"}}},
    Verb.PORTFOLIO_CREATED: {"portfolio": 1, "code": "OPS", "changes": {"name": {"old": None, "new": "Operations"}}},
    Verb.PORTFOLIO_UPDATED: {"portfolio": 1, "code": "OPS", "changes": {"name": {"old": "Ops", "new": "Operations"}}},
    Verb.ROLE_GRANTED: {"user": "dana", "changes": {"roles": {"old": [], "new": ["ops_lead"]}}},
    Verb.ROLE_REVOKED: {"user": "dana", "changes": {"roles": {"old": ["deputy_mayor"], "new": []}}},
    Verb.SLA_POLICY_UPDATED: {"changes": {"review_days_red": {"old": 2, "new": 3}}},
    Verb.CLOSURE_SAVED: {
        "closure": 1,
        "changes": {"date": {"old": None, "new": "2026-12-24"}, "name": {"old": None, "new": "Snow day"}},
    },
    Verb.CLOSURE_DELETED: {"closure": 1, "date": "2026-12-24", "name": "Snow day"},
    Verb.IMPORT_COMPLETED: {
        "batch": 1,
        "file_name": "mmr.csv",
        "sha256": "ab",
        "format": "mmr_csv",
        "rows": 10,
        "counts": {"indicators_created": 10, "measurements_created": 40},
        "restated": [{"external_id": "1.2", "period": "2024-06-30", "old": "5.0000", "new": "6"}],
        "indicators_changed": [],
    },
    Verb.CHECK_RUN_STARTED: {"run": 3, "as_of": "2024-01-15", "mode": "full", "shards": 4},
    Verb.SIGNIN_LOCKED_OUT: {"username": "maria", "ip": "127.0.0.1"},
    Verb.TOKEN_CREATED: {"token_id": "ab12", "expiry": "2027-01-01T05:00:00Z"},
    Verb.TOKEN_REVOKED: {"user": "dana", "user_id": 1, "token_ids": ["ab12"], "reason": "signed out"},
    Verb.PASSWORD_CHANGED: {"user": "dana", "user_id": 1, "password_sign_in": True, "tokens_revoked": []},
}


def assert_reads_as_a_sentence(sentence: str) -> None:
    assert sentence.rstrip("’”").endswith((".", "?", "!")), sentence
    for raw in ("{", "}", "[", "]", "None", "null", "'old'", '"new"'):
        assert raw not in sentence, f"{raw!r} in: {sentence}"
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", sentence), f"a code in: {sentence}"


def test_every_verb_has_a_sample_and_its_own_words():
    assert set(SAMPLES) == set(Verb.values)
    assert set(TELLERS) == set(Verb.values)


@pytest.mark.parametrize("verb", Verb.values)
def test_every_verb_reads_as_a_sentence(verb):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Liaison")
    event = Event(verb=verb, actor=dana, data=SAMPLES[verb], occurred_at=timezone.now())
    sentence = event_sentence(event)
    assert_reads_as_a_sentence(sentence)
    if verb != Verb.SIGNIN_LOCKED_OUT:  # nobody is signed in then
        assert sentence.startswith("Dana Liaison ")
    assert "dana " not in sentence  # the person by name, not username


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_service_event_reads_as_a_sentence(name, ctx, flag_in, make_user, agency):
    """The event each service really writes, not a sample of it."""
    call = CASES[name](World(ctx, flag_in, make_user, agency))
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    call()
    for event in Event.objects.filter(id__gt=before):
        assert_reads_as_a_sentence(event_sentence(event))


def test_a_dismissal_names_the_person_and_the_reason(make_user, agency):
    from core.permissions import Role

    dana = make_user(Role.LIAISON, agencies=[agency], username="dliaison")
    dana.first_name, dana.last_name = "Dana", "Liaison"
    dana.save()
    flag = FlagFactory(indicator__agency=agency)
    services.flag_dismiss(flag=flag, actor=dana, reason_code="explained_by_agency", note="one-off vendor delay")
    event = Event.objects.get(flag=flag, verb=Verb.FLAG_DISMISSED)
    assert event_sentence(event) == "Dana Liaison dismissed it: explained by the agency — ‘one-off vendor delay’."


def test_a_change_reads_from_old_to_new():
    event = Event(verb=Verb.INDICATOR_TUNED, actor_label="manage.py", data=SAMPLES[Verb.INDICATOR_TUNED])
    assert event_sentence(event) == (
        "The command line changed the tolerance from 5 % to 10 % and set the tolerance's rationale to Seasonal."
    )


def test_assignment_names_both_people(ctx, flag_in, lead):
    ctx["liaison"].first_name, ctx["liaison"].last_name = "Dana", "Liaison"
    ctx["liaison"].save()
    flag = flag_in("in_review")
    services.flag_assign(flag=flag, actor=lead, assignee=ctx["liaison"])
    event = Event.objects.filter(flag=flag, verb=Verb.FLAG_ASSIGNED).get()
    assert event_sentence(event) == "lead assigned it to Dana Liaison (was Dana Liaison)."


def test_events_of_several_cases_are_labelled_with_their_case(client, ctx, agency, lead):
    first = FlagFactory(indicator__agency=agency)
    services.flag_dismiss(flag=first, actor=ctx["liaison"], reason_code="expected_seasonal", note="Winter")
    second = FlagFactory(indicator=first.indicator)
    services.flag_review(flag=second, actor=ctx["liaison"])
    lines = event_lines(Event.objects.filter(flag__in=[first, second]).order_by("id"))
    assert [line.case for line in lines] == [first.pk, second.pk]
    assert event_lines(Event.objects.filter(flag=first))[0].case is None  # one case: no label needed

    client.force_login(lead)
    page = client.get(reverse("indicator_detail", args=[first.indicator_id])).content.decode()
    assert f"case #{first.pk}" in page and f"case #{second.pk}" in page
    assert "dismissed it: expected (seasonal) — ‘Winter’." in page
    assert "expected_seasonal" not in page


def test_monitoring_shows_the_date_as_the_site_does(ctx, flag_in):
    flag = flag_in("monitoring")
    event = Event.objects.get(flag=flag, verb=Verb.FLAG_MONITORED)
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert f"is monitoring it until {until}: ‘Waiting for next month’." in event_sentence(event)
