"""The follow-through pages: notifications, the printable briefing, the "what did Operations do" report, the
SLA policy."""

import csv
import io

import pytest
from django.urls import reverse

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import EmailMode, Event, NotificationPreference, Signal, SlaPolicy
from escalations.services.notifications import notifications_create

from ..factories import MeasurementFactory

pytestmark = pytest.mark.django_db


def escalate_three(flag_in, liaison):
    flags = []
    for number in range(3):
        flag = flag_in(FlagStatus.IN_REVIEW)
        for year, value in ((2020, 100), (2021, 95), (2022, 80)):
            MeasurementFactory(indicator=flag.indicator, period=f"{year}-07-01", value=value)
        services.flag_add_note(flag=flag, actor=liaison, kind="agency_intel", body=f"Agency says {number}")
        flags.append(
            services.flag_escalate(flag=flag, actor=liaison, summary=f"Summary {number}", recommendation="Project")
        )
    return flags


def test_a_briefing_with_three_escalations_renders_with_charts(client, liaison, deputy, flag_in, agency):
    escalate_three(flag_in, liaison)
    client.force_login(deputy)
    page = client.get(reverse("briefing", args=[agency.portfolio.code])).content.decode()
    assert page.count("<svg") >= 3
    for number in range(3):
        assert f"Summary {number}" in page and f"Agency says {number}" in page
    assert "3 escalations awaiting a decision" in page


def test_a_briefing_of_another_portfolio_does_not_exist_for_a_deputy(client, deputy, other_agency):
    client.force_login(deputy)
    assert client.get(reverse("briefing", args=[other_agency.portfolio.code])).status_code == 404
    assert client.get(reverse("briefing", args=["NOPE"])).status_code == 404


def test_the_header_counts_unread_notifications_and_the_page_marks_them_read(client, liaison, deputy, flag_in):
    for flag in escalate_three(flag_in, liaison):
        notifications_create(event_id=Event.objects.get(flag=flag, verb="flag.escalated").pk)
    client.force_login(deputy)
    assert "3 unread notifications" in client.get(reverse("dashboard")).content.decode()
    client.post(reverse("notification_list"))
    assert "0 unread notifications" in client.get(reverse("notification_list")).content.decode()
    client.post(reverse("notification_list"), {"email_mode": EmailMode.DIGEST})
    assert NotificationPreference.objects.get(user=deputy).email_mode == EmailMode.DIGEST


def test_the_operations_report_tells_each_flag_and_exports_csv(client, lead, liaison, deputy, pm, flag_in, agency):
    converted = services.flag_convert(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, title="Fix it", owner=pm)
    flag_in(FlagStatus.DISMISSED)
    client.force_login(lead)
    query = {"portfolio": agency.portfolio.code}
    page = client.get(reverse("operations_report"), query).content.decode()
    assert "2 cases" in page and "project “Fix it”" in page and "dismissed: Data error" in page
    response = client.get(reverse("operations_report"), {**query, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {int(row["case"]) for row in rows} >= {converted.pk}
    assert {row["signals"] for row in rows} == {f"{converted.signals.get().rule.name}: 10.0 % (yellow)"} | {
        f"{s.rule.name}: 10.0 % (yellow)" for s in Signal.objects.exclude(flag=converted)
    }
    assert {row["status"] for row in rows} == {"project", "dismissed"}


def test_the_report_refuses_a_backwards_period(client, lead):
    client.force_login(lead)
    response = client.get(reverse("operations_report"), {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400 and "before the start date" in response.content.decode()


def test_ops_leads_edit_the_sla_policy_and_liaisons_may_not(client, lead, liaison):
    client.force_login(lead)
    data = {"review_days_red": 1, "review_days_yellow": 3, "decision_days": 4, "lead_grace_days": 2}
    assert client.post(reverse("sla_policy"), data).status_code == 302
    assert SlaPolicy.current().review_days_red == 1
    client.force_login(liaison)
    assert client.get(reverse("sla_policy")).status_code == 403


def test_ops_leads_start_a_check_from_the_check_run_page(client, lead, liaison):
    from indicators.models import CheckRun

    client.force_login(lead)
    response = client.post(reverse("check_run_start"), {"as_of": "2022-10-31", "full": "on"}, follow=True)
    run = CheckRun.objects.get()
    assert (run.mode, str(run.as_of), run.status) == ("full", "2022-10-31", "succeeded")
    assert f"Check run #{run.pk} (full, as of 2022-10-31): succeeded, 0 indicators evaluated" in response.text
    refused = client.post(reverse("check_run_start"), {"as_of": "31/10/2022"}, follow=True).content.decode()
    assert "The as-of date is not a date" in refused and CheckRun.objects.count() == 1
    # "Run now" always runs, the same date and mode included (a rule edited this morning counts now).
    client.post(reverse("check_run_start"), {"as_of": "2022-10-31", "full": "on"})
    assert CheckRun.objects.count() == 2
    client.force_login(liaison)
    assert client.post(reverse("check_run_start"), {}).status_code == 403


def test_data_quality_flags_stay_out_of_the_performance_queue(client, liaison, agency):
    from escalations.models import FlagCategory

    from ..factories import FlagFactory, RuleFactory

    performance = FlagFactory(indicator__agency=agency)
    data_quality = FlagFactory(
        indicator__agency=agency, signal__rule=RuleFactory(kind="stale"), category=FlagCategory.DATA_QUALITY
    )
    client.force_login(liaison)

    def listed(**query) -> set[int]:
        page = client.get(reverse("flag_queue"), query, follow=True).content.decode()
        return {flag.pk for flag in (performance, data_quality) if f'id="select-{flag.pk}"' in page}

    assert listed() == {performance.pk}
    assert listed(category="data_quality") == {data_quality.pk}
    assert listed(category="") == {performance.pk, data_quality.pk}  # both
