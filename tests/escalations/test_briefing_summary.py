"""The deputy mayor's briefing opens with the portfolio's summary: its indicators by colour (as the dashboard
counts them), the escalations awaiting a decision by how long they have waited, and this month's decisions —
on the page and in ``GET /api/v1/briefings/{code}/`` alike."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Escalation

from ..factories import AgencyFactory, IndicatorFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def portfolio_state(agency, liaison, deputy, flag_in):
    """The agency's portfolio: a second agency, indicators of each colour, escalations escalated 2, 10 and 45
    days ago, one decided this month and one decided last month."""
    sibling = AgencyFactory(portfolio=agency.portfolio, name="Sibling agency")
    for rag in ("red", "red", "yellow", "green"):
        IndicatorFactory(agency=agency, rag=rag)
    IndicatorFactory(agency=sibling, rag="green")
    IndicatorFactory(agency=AgencyFactory(), rag="red")  # another portfolio's: not counted
    for days_ago in (45, 40, 10, 2, 1):
        with time_machine.travel(NOW - dt.timedelta(days=days_ago), tick=False):
            services.flag_escalate(flag=flag_in(FlagStatus.IN_REVIEW), actor=liaison, summary="s", recommendation="r")
    decided = list(Escalation.objects.order_by("escalated_at"))
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):  # October: last month
        services.flag_delegate(flag=decided[0].flag, actor=deputy, note="Call the commissioner")
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        services.flag_delegate(flag=decided[4].flag, actor=deputy, note="Agency handles it")
    return agency.portfolio


def figures(text: str) -> dict[str, str]:
    found = {}
    for name in ("briefing-rag", "briefing-waiting", "briefing-month"):
        match = re.search(rf'data-testid="{name}">(.*?)</(?:p|li)>', text, re.S)
        assert match is not None, name
        found[name] = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
    return found


def test_the_briefing_opens_with_the_portfolio_summary(client, deputy, agency, portfolio_state):
    client.force_login(deputy)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("briefing", args=[portfolio_state.code])).text
    assert page.index('data-testid="briefing-summary"') < page.index("Awaiting a decision</h2>")
    shown = figures(page)
    assert shown["briefing-rag"].startswith("10 indicators: Red 2 · Yellow 1 · Green 2 · Not checked 5")
    assert "1 waiting under 7 days · 1 waiting 7–30 days · 1 waiting over 30 days" in shown["briefing-waiting"]
    assert shown["briefing-month"] == "Decisions this month (since 2026-11-01): 1"
    agencies = re.findall(r'<tr data-agency="([^"]+)"', page)
    assert agencies[0] == agency.code and len(agencies) == 2  # worst first: the agency with the reds


def test_the_api_gives_the_same_summary(client, deputy, portfolio_state):
    client.force_login(deputy)
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"/api/v1/briefings/{portfolio_state.code}/").json()
    summary = body["summary"]
    assert summary["indicators"] == {"red": 2, "yellow": 1, "green": 2, "not_checked": 5, "open_cases": 5}
    assert [band["count"] for band in summary["awaiting_by_age"]] == [1, 1, 1]
    assert summary["decisions_this_month"] == 1
    assert summary["month_start"] == "2026-11-01"
    assert [agency["red"] for agency in summary["agencies"]] == [2, 0]


def test_an_empty_portfolio_summary_counts_nothing(client, make_user):
    portfolio = AgencyFactory().portfolio
    client.force_login(make_user("ops_lead"))
    body = client.get(f"/api/v1/briefings/{portfolio.code}/").json()
    assert body["summary"]["indicators"]["red"] == 0
    assert body["summary"]["agencies"] == []
