"""The hearing report ("what Operations did"): totals per agency and fiscal year computed right on a small
known history, in a fixed number of queries; the cases paged 50 at a time; the totals as CSV."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from escalations import services
from escalations.reports import fiscal_year, flags_raised, operations_totals

from ..factories import FlagFactory, IndicatorFactory, MeasurementFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
ALWAYS = {"start": dt.date(2000, 1, 1), "end": dt.date(2100, 1, 1)}


def at(day: str, hour: int = 9) -> dt.datetime:
    """A moment in New York time."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=NEW_YORK)


def case(agency, opened: dt.datetime, *, recovers_to: int | None = None):
    """A case opened at ``opened`` on a new indicator (up is better) whose signal's baseline is 100 for
    FY2023; ``recovers_to``: the indicator's FY2024 value, reported later."""
    indicator = IndicatorFactory(agency=agency, desired_direction="up")
    if recovers_to is not None:
        MeasurementFactory(indicator=indicator, period=dt.date(2023, 7, 1), value=Decimal(recovers_to))
    return FlagFactory(indicator=indicator, detected_at=opened)


def act(moment: dt.datetime, service, **kwargs):
    with time_machine.travel(moment, tick=False):
        return service(**kwargs)


@pytest.fixture
def history(liaison, lead, deputy, pm, agency, other_agency):
    """FY2024: two cases of ``agency`` reviewed in 2 and 4 days and dismissed (seasonal, data error), one of
    ``other_agency`` opened on June 30 at 11 pm and never touched. FY2025: two cases of ``agency``, reviewed
    in 1 and 3 days and escalated; one made a project 10 days later (completed; its indicator recovered), the
    other returned with a question (not decided; its indicator did not recover)."""
    first = case(agency, at("2023-08-01"))
    act(at("2023-08-03"), services.flag_review, flag=first, actor=liaison)
    act(at("2023-08-04"), services.flag_dismiss, flag=first, actor=liaison, reason_code="expected_seasonal", note="x")
    second = case(agency, at("2023-09-01"))
    act(at("2023-09-05"), services.flag_dismiss, flag=second, actor=liaison, reason_code="data_error", note="x")
    case(other_agency, at("2024-06-30", hour=23))

    third = case(agency, at("2024-07-15"), recovers_to=105)
    act(at("2024-07-16"), services.flag_review, flag=third, actor=liaison)
    act(at("2024-07-17"), services.flag_escalate, flag=third, actor=liaison, summary="s", recommendation="r")
    third = act(at("2024-07-27"), services.flag_convert, flag=third, actor=deputy, title="Plan", owner=pm)
    act(at("2024-08-01"), services.project_update, project=third.project, actor=pm, status="active")
    act(at("2024-09-01"), services.project_update, project=third.project, actor=pm, status="completed", outcome="ok")
    fourth = case(agency, at("2024-08-01"), recovers_to=95)
    act(at("2024-08-04"), services.flag_review, flag=fourth, actor=liaison)
    act(at("2024-08-05"), services.flag_escalate, flag=fourth, actor=liaison, summary="s", recommendation="r")
    act(at("2024-08-06"), services.flag_return, flag=fourth, actor=deputy, question="Why?")


def test_the_fiscal_year_starts_on_july_first_in_new_york():
    assert fiscal_year(at("2023-07-01", hour=0)) == 2024
    assert fiscal_year(at("2024-06-30", hour=23)) == 2024  # already July 1 in UTC
    assert fiscal_year(dt.datetime(2024, 7, 1, 4, 0, tzinfo=dt.UTC)) == 2025  # midnight in New York


def test_totals_per_agency_and_fiscal_year(history, lead, agency, other_agency):
    totals = operations_totals(flags=flags_raised(user=lead, **ALWAYS))
    rows = {(line.agency_code, line.fiscal_year): line for line in totals}
    assert [(line.agency_code, line.fiscal_year) for line in totals] == [
        (agency.code, 2025),
        *sorted([(agency.code, 2024), (other_agency.code, 2024)]),
        ("", None),
    ]
    fy24 = rows[(agency.code, 2024)]
    assert (fy24.opened, fy24.reviewed, fy24.dismissed_total, fy24.escalated) == (2, 2, 2, 0)
    assert fy24.dismissed_by_reason == [("Data error", 1), ("Expected (seasonal)", 1)]
    assert fy24.median_days_to_review == 3.0 and fy24.median_days_to_decision is None
    untouched = rows[(other_agency.code, 2024)]
    assert (untouched.opened, untouched.reviewed, untouched.median_days_to_review) == (1, 0, None)
    fy25 = rows[(agency.code, 2025)]
    assert (fy25.opened, fy25.reviewed, fy25.escalated, fy25.decided, fy25.converted) == (2, 2, 2, 1, 1)
    assert len(fy25.projects_completed) == 1 and len(fy25.indicators_recovered) == 1
    assert (fy25.median_days_to_review, fy25.median_days_to_decision) == (2.0, 10.0)
    everything = rows[("", None)]
    assert (everything.opened, everything.reviewed, everything.dismissed_total, everything.decided) == (5, 4, 2, 1)
    assert everything.median_days_to_review == 2.5


def test_totals_take_a_fixed_number_of_queries(lead, agency, django_assert_max_num_queries):
    for number in range(30):
        flag = case(agency, at("2024-01-01"), recovers_to=100 + number)
        services.flag_review(flag=flag, actor=lead)
    with django_assert_max_num_queries(5):
        totals = operations_totals(flags=flags_raised(user=lead, **ALWAYS))
    assert totals[-1].opened == 30 and len(totals[-1].indicators_recovered) == 30


def test_the_report_page_leads_with_the_totals_and_pages_the_cases(client, lead, agency):
    flags = [case(agency, at("2024-01-01")) for _ in range(51)]
    client.force_login(lead)
    url = reverse("operations_report")
    first = client.get(url, {"agency": agency.code, **ALWAYS}).content.decode()
    assert first.index('data-testid="report-totals"') < first.index('class="story"')
    assert "51 cases" in first and "Page 1 of 2" in first and first.count('class="story"') == 50
    assert f"Case #{flags[0].pk}</a>" in first and f"Case #{flags[50].pk}</a>" not in first
    second = client.get(url, {"agency": agency.code, **ALWAYS, "page": 2}).content.decode()
    assert second.count('class="story"') == 1 and f"Case #{flags[50].pk}</a>" in second
    assert client.get(url, {"agency": agency.code, **ALWAYS, "page": "x"}).status_code == 200


def test_the_report_page_costs_the_same_queries_for_more_cases(client, lead, liaison, agency):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(lead)
    url = reverse("operations_report")
    counts = []
    for _ in range(2):
        for _ in range(4):
            flag = case(agency, at("2024-01-01"), recovers_to=101)
            services.flag_review(flag=flag, actor=liaison)
            services.flag_assign(flag=flag, actor=lead, assignee=liaison)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, ALWAYS).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_totals_download_as_csv(client, history, lead, agency):
    client.force_login(lead)
    response = client.get(reverse("operations_report"), {**ALWAYS, "format": "csv", "part": "totals"})
    assert response.status_code == 200 and "totals" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (rows[0]["agency"], rows[0]["fiscal_year"]) == (agency.code, "FY2025")
    everything = rows[-1]
    assert everything["agency"] == "all" and everything["cases_opened"] == "5"
    assert (everything["dismissed_data_error"], everything["dismissed_expected_seasonal"]) == ("1", "1")
    assert (everything["median_days_to_review"], everything["indicators_recovered"]) == ("2.5", "1")
    details = client.get(reverse("operations_report"), {**ALWAYS, "format": "csv"})
    assert b"".join(details.streaming_content).decode().startswith("case,indicator_id,")
