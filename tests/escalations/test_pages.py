"""The pages, through Django's test client: each page renders for the roles that use it and shows only what
the user may see; forms call the services and show their refusals inline; no input produces a 500."""

import csv
import io
import re

import pytest
from django.urls import reverse

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Flag, Project, ProjectStatus
from indicators.models import Measurement, ThresholdRule

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, MeasurementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(agency):
    indicator = IndicatorFactory(agency=agency, name="Potholes repaired within 15 days")
    for year, value in ((2020, 95), (2021, 96), (2022, 90)):
        MeasurementFactory(indicator=indicator, period=f"{year}-07-01", value=value)
    return FlagFactory(
        indicator=indicator,
        signal__period="2022-07-01",
        signal__value=90,
        signal__baseline=96,
        signal__change="-0.0625",
        signal__measure="6.25",
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in(client):
    for name in ("dashboard", "flag_queue", "inbox", "project_board", "audit_log", "rule_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_and_header_show_name_and_role(client, liaison):
    assert client.get(reverse("login")).status_code == 200
    liaison.set_password("pw")
    liaison.first_name, liaison.last_name = "Lia", "Liaison"
    liaison.save()
    response = client.post(reverse("login"), {"username": "liaison", "password": "pw"}, follow=True)
    assert "Lia Liaison" in response.text
    assert "Liaison" in response.text
    assert "Sign out" in response.text


def test_every_page_renders_for_an_ops_lead(client, lead, flag, pm):
    services.flag_review(flag=flag, actor=lead)
    services.flag_convert(flag=flag, actor=lead, title="Fix potholes", owner=pm)
    project = Project.objects.get()
    client = signed_in(client, lead)
    for url in (
        reverse("dashboard"),
        reverse("flag_queue"),
        reverse("flag_detail", args=[flag.pk]),
        reverse("inbox"),
        reverse("project_board"),
        reverse("project_detail", args=[project.pk]),
        reverse("project_edit", args=[project.pk]),
        reverse("project_create"),
        reverse("indicator_detail", args=[flag.indicator_id]),
        reverse("audit_log"),
        reverse("rule_list"),
        reverse("rule_edit", args=[ThresholdRule.objects.first().pk]),
        reverse("checkrun_list"),
        reverse("import_upload"),
    ):
        response = client.get(url, follow=True)  # the queue and the audit log open their everyday view
        assert response.status_code == 200, url


def _dashboard_row(text: str, name: str) -> str:
    return next(row for row in text.split("<tr>") if name in row)


def test_dashboard_shows_rag_as_colour_icon_and_text_with_the_triage_status_beside_it(client, liaison, flag):
    type(flag.indicator).objects.filter(pk=flag.indicator_id).update(rag="yellow")  # as the check wrote it
    dashboard = signed_in(client, liaison).get(reverse("dashboard"), {"agency": flag.indicator.agency.code}).text
    row = _dashboard_row(dashboard, "Potholes repaired within 15 days")
    assert 'class="rag rag-yellow"' in row and ">Yellow</span>" in row and "case detected" in row
    assert '<svg class="sparkline"' in row
    assert "90 <small>FY2023</small>" in row
    red_only = signed_in(client, liaison).get(reverse("dashboard"), {"rag": "red"}).text
    assert "Potholes repaired within 15 days" not in red_only
    # Dismissing the case changes what people decided, not what the check measured.
    services.flag_dismiss(flag=flag, actor=liaison, reason_code="explained_by_agency", note="Asphalt plant closed")
    agency_page = client.get(reverse("dashboard"), {"agency": flag.indicator.agency.code}).text
    row = _dashboard_row(agency_page, "Potholes repaired within 15 days")
    assert ">Yellow</span>" in row and "case dismissed: explained by the agency" in row


def test_queue_is_scoped_to_the_liaisons_agencies(client, liaison, flag):
    elsewhere = FlagFactory(indicator__agency=AgencyFactory(), indicator__name="Elsewhere indicator")
    text = signed_in(client, liaison).get(reverse("flag_queue"), follow=True).text
    assert "Potholes repaired within 15 days" in text
    assert "Elsewhere indicator" not in text
    assert client.get(reverse("flag_detail", args=[elsewhere.pk])).status_code == 404


def test_queue_filters_and_sorts_without_errors_on_any_input(client, lead, flag):
    client = signed_in(client, lead)
    for params, status in (
        ({"severity": "red"}, 200),
        ({"severity": "purple"}, 400),
        ({"ordering": "agency"}, 200),
        ({"ordering": "nonsense"}, 400),
        ({"status": "dismissed"}, 200),
        ({"assignee": "me"}, 200),
        ({"critical": "on"}, 200),
        ({"page": "9999"}, 200),
        ({"page": "abc"}, 200),
    ):
        assert client.get(reverse("flag_queue"), params, follow=True).status_code == status, params
    assert "Potholes" not in client.get(reverse("flag_queue"), {"severity": "red"}).text


def test_flag_page_shows_chart_numbers_and_only_allowed_actions(client, liaison, flag):
    text = signed_in(client, liaison).get(reverse("flag_detail", args=[flag.pk])).text
    assert '<svg class="series-chart"' in text
    assert 'class="flagged"' in text  # the flagged period is marked
    assert 'class="band-yellow"' in text  # the threshold band of the year-over-year rule
    assert "FY2023 is 6.2 % worse than a year earlier" in text  # the signal in its unit
    assert "Priority <strong>" in text
    assert "Start review" in text and "Dismiss" in text
    assert "Escalate" not in text  # not from "detected"
    assert "Delegate to agency" not in text  # a deputy mayor's action


def test_escalating_through_the_page_calls_the_service(client, liaison, flag):
    services.flag_review(flag=flag, actor=liaison)
    client = signed_in(client, liaison)
    url = reverse("flag_act", args=[flag.pk, "note"])
    client.post(url, {"note-kind": "agency_intel", "note-body": "Asphalt plant closed for a month", "note-source": ""})
    response = client.post(
        reverse("flag_act", args=[flag.pk, "escalate"]),
        {"escalate-summary": "Slipping", "escalate-recommendation": "Project", "escalate-urgency": "high"},
        follow=True,
    )
    assert "Escalated: it waits for the deputy mayor&#x27;s office to decide." in response.text
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ESCALATED
    assert flag.escalations.get().agency_intelligence == "Asphalt plant closed for a month"


def test_converting_says_where_the_project_is_with_a_link(client, lead, flag):
    services.flag_review(flag=flag, actor=lead)
    response = signed_in(client, lead).post(
        reverse("flag_act", args=[flag.pk, "convert"]), {"convert-title": "Fix <the> backlog"}, follow=True
    )
    flag.refresh_from_db()
    url = reverse("project_detail", args=[flag.project_id])
    assert f'Converted to project <a href="{url}">“Fix &lt;the&gt; backlog”</a>.' in response.text


def test_missing_input_is_shown_inline_and_writes_nothing(client, liaison, flag):
    events = Event.objects.count()
    response = signed_in(client, liaison).post(
        reverse("flag_act", args=[flag.pk, "dismiss"]), {"dismiss-reason_code": "bogus", "dismiss-note": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert Event.objects.count() == events


def test_a_refused_transition_is_shown_inline(client, liaison, flag):
    events = Event.objects.count()
    response = signed_in(client, liaison).post(
        reverse("flag_act", args=[flag.pk, "escalate"]),
        {"escalate-summary": "s", "escalate-recommendation": "r", "escalate-urgency": "routine"},
    )
    assert response.status_code == 409
    assert "cannot be given the action" in response.text
    assert Event.objects.count() == events
    assert signed_in(client, liaison).post(reverse("flag_act", args=[flag.pk, "fly"])).status_code == 404


def test_bulk_action_reports_honestly(client, liaison, flag, agency):
    second = FlagFactory(indicator__agency=agency)
    services.flag_review(flag=second, actor=liaison)
    response = signed_in(client, liaison).post(
        reverse("flag_bulk"), {"ids": [flag.pk, second.pk, 999999], "action": "review"}, follow=True
    )
    assert "Start review: 1 of 3 cases done." in response.text
    assert f"#{second.pk}: A flag that is in review cannot" in response.text
    assert "#999999: Not found." in response.text
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.IN_REVIEW


def test_bulk_action_takes_the_fields_of_its_row_of_the_table(client, liaison, flag, agency):
    second = FlagFactory(indicator__agency=agency)
    client = signed_in(client, liaison)
    queue = client.get(reverse("flag_queue"), follow=True).text
    assert 'data-bulk-action="dismiss"' in queue and 'name="bulk-dismiss-note"' in queue
    assert 'data-bulk-action="escalate"' in queue  # every action a liaison may take, with its own fields
    response = client.post(
        reverse("flag_bulk"),
        {
            "ids": [flag.pk, second.pk],
            "action": "dismiss",
            "bulk-dismiss-reason_code": "data_error",
            "bulk-dismiss-note": "Mis-keyed by the agency",
        },
        follow=True,
    )
    assert "Dismiss: 2 of 2 cases done." in response.text
    assert set(Flag.objects.filter(pk__in=[flag.pk, second.pk]).values_list("dismiss_reason", flat=True)) == {
        "data_error"
    }


def test_bulk_dismiss_needs_a_reason(client, liaison, flag):
    response = signed_in(client, liaison).post(
        reverse("flag_bulk"), {"ids": [flag.pk], "action": "dismiss"}, follow=True
    )
    assert "Nothing was done." in response.text
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.DETECTED


def test_inbox_shows_the_briefing_and_decisions_to_the_deputy(client, liaison, deputy, flag):
    services.flag_review(flag=flag, actor=liaison)
    services.flag_escalate(flag=flag, actor=liaison, summary="Potholes pile up", recommendation="Make it a project")
    text = signed_in(client, deputy).get(reverse("inbox")).text
    assert "Potholes pile up" in text and "Make it a project" in text
    assert "Convert to project" in text and "Delegate to agency" in text and "Return with a question" in text


def test_project_complete_needs_an_outcome_then_resolves_flags(client, lead, pm, flag):
    services.flag_review(flag=flag, actor=lead)
    services.flag_convert(flag=flag, actor=lead, title="Fix potholes", owner=pm)
    project = Project.objects.get()
    client = signed_in(client, pm)
    assert client.post(reverse("project_act", args=[project.pk, "start"])).status_code == 302
    url = reverse("project_act", args=[project.pk, "complete"])
    response = client.post(url, {"complete-outcome": ""})
    assert response.status_code == 400
    assert "This field is required." in response.text
    client.post(url, {"complete-outcome": "Backlog cleared"})
    assert Project.objects.get().status == ProjectStatus.COMPLETED
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.RESOLVED


def test_only_project_runners_edit_projects(client, liaison):
    assert signed_in(client, liaison).get(reverse("project_create")).status_code == 403


def test_audit_log_filters_and_exports_csv(client, auditor, liaison, flag):
    services.flag_review(flag=flag, actor=liaison)
    services.flag_dismiss(flag=flag, actor=liaison, reason_code="data_error", note="Mis-keyed")
    client = signed_in(client, auditor)
    page = client.get(reverse("audit_log"), {"verb": "flag.dismissed", "actor": "liaison"}).text
    assert "Mis-keyed" in page and "1 event" in page
    response = client.get(reverse("audit_log"), {"verb": "flag.dismissed", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["verb"], r["actor"], r["flag"]) for r in rows] == [("flag.dismissed", "liaison", str(flag.pk))]
    refused = client.get(reverse("audit_log"), {"since": "2020-13-45", "until": "x"})
    assert refused.status_code == 400 and refused.text.count('class="field-error"') == 2


def test_import_page_reports_rejected_rows_and_imports_good_files(client, lead):
    client = signed_in(client, lead)
    bad = io.BytesIO(b"nonsense,header\n1,2\n")
    bad.name = "bad.csv"
    response = client.post(reverse("import_upload"), {"file": bad})
    assert response.status_code == 400
    assert "Rejected: nothing was imported" in response.text
    assert "matches no known format" in response.text
    header = (
        "ID,Agency.Number,Agency.Full.Name.y,Service,Goal,Indicator,Desired.Direction,Critical,Target.MMR,"
        "2016,2017,2018,2019,2020,2021,2022,2023\n"
    )
    good = io.BytesIO(
        (header + "9001,827,Department of Sanitation,S,G,Tons collected,Up,No,NA,1,2,3,4,5,6,7,8\n").encode()
    )
    good.name = "good.csv"
    response = client.post(reverse("import_upload"), {"file": good})
    assert response.status_code == 200, response.text[:2000]
    assert "Imported" in response.text
    assert "<li>Indicators created: 1</li>" in response.text and "<li>Values added: 8</li>" in response.text
    assert Measurement.objects.filter(indicator__external_id="9001").count() == 8


def test_rule_edit_validates_and_saves(client, lead, liaison):
    rule = ThresholdRule.objects.get(kind="year_over_year")
    url = reverse("rule_edit", args=[rule.pk])
    assert signed_in(client, liaison).get(url).status_code == 403
    client = signed_in(client, lead)
    data = {"name": rule.name, "yellow": "7", "red": "3", "critical_factor": "0.5", "scope": "all", "active": "on"}
    data["preliminary"] = "cap"
    response = client.post(url, data)
    assert response.status_code == 400 and "The red threshold is at least the yellow one." in response.text
    client.post(url, {**data, "red": "12"})
    rule.refresh_from_db()
    assert (rule.yellow, rule.red, rule.preliminary, rule.active) == (7, 12, "cap", True)


def test_header_counts_the_work_waiting(client, liaison, deputy, flag):
    services.flag_review(flag=flag, actor=liaison)
    assert "1 open case assigned to you" in signed_in(client, liaison).get(reverse("dashboard")).text
    services.flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="r")
    text = signed_in(client, deputy).get(reverse("dashboard")).text
    assert "1 decision waiting" in text
    assert ">Inbox</a>" in text


def test_a_liaison_raises_a_case_by_hand_when_none_is_open(client, liaison, flag):
    url = reverse("indicator_raise_flag", args=[flag.indicator_id])
    client = signed_in(client, liaison)
    page = client.get(reverse("indicator_detail", args=[flag.indicator_id])).text
    assert "Raise a case by hand" not in page and f"Case #{flag.pk} is open for this indicator" in page
    refused = client.post(url, {"severity": "red", "summary": "Matters more than its size says"})
    assert refused.status_code == 409 and f"Case #{flag.pk} is open" in refused.text
    services.flag_dismiss(flag=flag, actor=liaison, reason_code="other", note="Done")
    assert "Raise a case by hand" in client.get(reverse("indicator_detail", args=[flag.indicator_id])).text
    assert client.post(url, {"severity": "red", "summary": ""}).status_code == 400
    response = client.post(url, {"severity": "red", "summary": "Matters more than its size says"}, follow=True)
    raised = Flag.objects.get(origin="manual")
    assert response.request["PATH_INFO"] == reverse("flag_detail", args=[raised.pk])
    assert (raised.severity, raised.severity_pinned) == ("red", True)


def test_others_may_not_raise_flags(client, auditor, flag):
    client = signed_in(client, auditor)
    assert "Raise a case by hand" not in client.get(reverse("indicator_detail", args=[flag.indicator_id])).text
    response = client.post(
        reverse("indicator_raise_flag", args=[flag.indicator_id]), {"severity": "red", "summary": "x"}
    )
    assert response.status_code == 403 and "You may raise cases only" in response.text
    assert not Flag.objects.filter(origin="manual").exists()


def test_ops_pages_are_for_the_operations_team(client, deputy):
    client = signed_in(client, deputy)
    for name in ("rule_list", "checkrun_list", "import_upload"):
        assert client.get(reverse(name)).status_code == 403
    assert ">Rules</a>" not in client.get(reverse("dashboard")).text


def test_no_input_produces_a_server_error(client, lead, pm, flag):
    services.flag_review(flag=flag, actor=lead)
    project = services.project_create(actor=lead, title="P")
    milestone = services.milestone_add(project=project, actor=lead, title="M")
    client = signed_in(client, lead)
    junk = {"x": "\x00", "until": "31/31/2020", "monitor-until": "yesterday", "assignee": "abc"}
    posts = [
        (reverse("flag_act", args=[flag.pk, action]), junk)
        for action in (
            "review",
            "assign",
            "set_severity",
            "monitor",
            "dismiss",
            "escalate",
            "convert",
            "note",
            "reopen",
        )
    ] + [
        (reverse("flag_act", args=[flag.pk, "monitor"]), {"monitor-until": "2001-01-01", "monitor-reason": "r"}),
        (reverse("flag_act", args=[flag.pk, "convert"]), {"convert-project": "999", "convert-title": "t"}),
        (reverse("flag_act", args=[flag.pk, "assign"]), {"assign-assignee": str(pm.pk)}),
        (reverse("flag_bulk"), {"ids": ["a", "-1", str(flag.pk)], "action": "fly"}),
        (reverse("flag_bulk"), {"ids": [str(flag.pk)], "action": "assign", "bulk-assign-assignee": "999999"}),
        (reverse("project_create"), {"title": "", "start_date": "2024-02-30", "owner": "abc"}),
        (reverse("project_create"), {"title": "t", "start_date": "2024-02-01", "target_date": "2024-01-01"}),
        (reverse("project_edit", args=[project.pk]), {"title": "t", "agencies": ["abc"]}),
        (reverse("project_act", args=[project.pk, "teleport"]), {}),
        (reverse("project_act", args=[project.pk, "complete"]), {"complete-outcome": ""}),
        (reverse("project_milestone_add", args=[project.pk]), {"title": "", "due": "never"}),
        (reverse("project_milestone_done", args=[project.pk, milestone.pk + 1000]), {}),
        (reverse("rule_edit", args=[ThresholdRule.objects.first().pk]), {"params": "{not json", "yellow": "-1"}),
        (reverse("import_upload"), {}),
        (reverse("indicator_raise_flag", args=[flag.indicator_id]), {"severity": "purple"}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code < 500, (url, data, response.status_code)
    for url in (reverse("flag_detail", args=[999999]), reverse("project_detail", args=[999999]), "/indicators/999999/"):
        assert client.get(url).status_code == 404
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.IN_REVIEW


def test_check_runs_show_progress_and_poll_while_running(client, lead):
    from indicators.models import CheckRun

    CheckRun.objects.create(as_of="2026-01-01", status="running", shards_total=8, shards_done=3)
    text = signed_in(client, lead).get(reverse("checkrun_list")).text
    assert '<progress value="3" max="8"' in text and "3 / 8" in text
    assert 'hx-trigger="every 3s"' in text


def test_bulk_actions_offered_follow_the_transition_table(client, liaison, lead, auditor, flag):
    liaison_page = signed_in(client, liaison).get(reverse("flag_queue"), follow=True).text
    assert 'value="review"' in liaison_page and 'value="dismiss"' in liaison_page
    assert 'value="assign"' not in liaison_page  # only ops leads assign
    assert 'value="assign"' in signed_in(client, lead).get(reverse("flag_queue"), follow=True).text
    auditor_page = signed_in(client, auditor).get(reverse("flag_queue"), follow=True).text
    assert "Potholes repaired within 15 days" in auditor_page
    assert 'name="ids"' not in auditor_page and "Apply to selected" not in auditor_page


def test_a_preliminary_latest_value_is_marked_on_the_dashboard_and_the_indicator_page(client, liaison, flag):
    Measurement.objects.filter(indicator=flag.indicator, period="2022-07-01").update(preliminary=True)
    client = signed_in(client, liaison)
    dashboard = client.get(reverse("dashboard"), {"agency": flag.indicator.agency.code}).text
    assert "90 <small>FY2023, preliminary</small>" in dashboard
    page = client.get(reverse("indicator_detail", args=[flag.indicator_id])).text
    assert "(FY2023, preliminary)" in page and 'class="point preliminary"' in page


def test_the_audit_log_pages_to_its_older_events(client, auditor, liaison, agency):
    for _ in range(101):  # a page holds 100
        services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=liaison, severity="red", summary="x")
    client = signed_in(client, auditor)
    first = client.get(reverse("audit_log"), {"ordering": "-id"}).text
    [older] = re.findall(r'<a href="([^"]+)">Older</a>', first)
    assert older.startswith("?") and not older.startswith("??") and "page=2" in older
    second = client.get(reverse("audit_log") + older.replace("&amp;", "&"))
    assert second.status_code == 200 and "Newer</a>" in second.text
