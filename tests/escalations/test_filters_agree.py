"""One filter per list: the same query gives the same rows on the page and in the API — the triage queue and
``GET /api/v1/flags/``, the audit log and ``GET /api/v1/events/``, the dashboard and
``GET /api/v1/dashboard/`` (whose counts are the page's summary, and whose filtered indicators are the page's
rows and ``GET /api/v1/indicators/``'s)."""

import datetime as dt
import re
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.permissions import Role
from escalations import services
from escalations.models import FlagCategory
from indicators.models import Indicator

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, RuleFactory

API = "/api/v1/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def page_rows(client, url: str, query: dict, marker: str) -> list[int]:
    response = client.get(url, query)
    assert response.status_code == 200, (url, query, response.status_code)
    return [int(pk) for pk in re.findall(rf'data-{marker}="(\d+)"', response.text)]


def api_rows(api, path: str, query: dict, page_size: int) -> list[int]:
    response = api.get(f"{API}{path}", {**query, "page_size": page_size})
    assert response.status_code == 200, (path, query, response.json())
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def world(make_user, agency, lead, liaison):
    """Cases of two agencies in several statuses, severities, categories, origins and deadlines (overdue,
    due in three days, in three weeks; a case in review has none)."""
    other = AgencyFactory()
    rule = RuleFactory(kind="trend_average")
    now = timezone.now()
    flags = [
        FlagFactory(indicator__agency=agency, severity="red"),
        FlagFactory(indicator__agency=agency, indicator__critical=True),
        FlagFactory(indicator__agency=other, severity="red", signal__rule=rule, due_at=now - dt.timedelta(days=2)),
        FlagFactory(indicator__agency=other, category=FlagCategory.DATA_QUALITY, due_at=now + dt.timedelta(days=3)),
        FlagFactory(indicator__agency=agency, due_at=now - dt.timedelta(hours=1)),
        FlagFactory(indicator__agency=agency, due_at=now + dt.timedelta(days=21)),
        FlagFactory(indicator__agency=agency, severity="red", due_at=now + dt.timedelta(days=6)),
    ]
    services.flag_review(flag=flags[0], actor=liaison)
    services.flag_dismiss(flag=flags[1], actor=liaison, reason_code="other", note="Explained")
    services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=liaison, severity="yellow", summary="Hand")
    return {"agency": agency, "other": other, "rule": rule, "lead": lead, "liaison": liaison}


FLAG_QUERIES = [
    {"open": "true", "category": "performance", "ordering": "-priority"},  # the queue's everyday view
    {"severity": "red"},
    {"status": ["detected", "dismissed"], "ordering": "severity"},
    {"open": "false"},
    {"category": "data_quality"},
    {"critical": "true"},
    {"assignee": "me"},
    {"assignee": "none", "ordering": "agency"},
    {"rule": "manual"},
    {"ordering": "-detected_at"},
    {"ordering": "id"},
    {"due": "overdue"},
    {"due": "week", "ordering": "due"},
    {"ordering": "due"},
    {"due": "overdue", "severity": "red", "open": "true"},
]


@pytest.mark.parametrize("as_role", [Role.OPS_LEAD, Role.LIAISON])
def test_the_queue_and_the_flags_api_list_the_same_rows(client, world, as_role):
    user = world["lead"] if as_role == Role.OPS_LEAD else world["liaison"]
    client.force_login(user)
    api = api_for(user)
    queries = [*FLAG_QUERIES, {"agency": world["other"].code}, {"rule": str(world["rule"].pk)}]
    for query in queries:
        page = page_rows(client, reverse("flag_queue"), query, "flag")
        assert page == api_rows(api, "flags/", query, 50), query
    assert page_rows(client, reverse("flag_queue"), {"severity": "red"}, "flag")  # not all empty


def test_the_audit_log_and_the_events_api_list_the_same_rows(client, world, auditor):
    client.force_login(auditor)
    api = api_for(auditor)
    liaison = world["liaison"].username
    queries = [
        {"ordering": "-id"},  # the page's everyday view
        {"ordering": "id"},
        {"actor": liaison.upper()},  # any case, both
        {"actor": "nightly check"},
        {"verb": ["flag.dismissed", "flag.reviewed"]},
        {"agency": world["agency"].code},
        {"since": "2000-01-01", "until": "2999-12-31"},
        {"until": "2000-01-01"},
    ]
    for query in queries:
        page = page_rows(client, reverse("audit_log"), query, "event")
        assert page == api_rows(api, "events/", query, 100), query
    assert len(page_rows(client, reverse("audit_log"), {"actor": liaison}, "event")) == 3


def summary_counts(client, query: dict) -> dict[str, dict[str, int]]:
    """The dashboard summary's counts per agency code, as the page prints them."""
    text = client.get(reverse("dashboard"), query).text
    rows = re.findall(r'data-agency="([^"]+)" data-counts="(\d+) (\d+) (\d+) (\d+)"', text)
    names = ("red", "yellow", "green", "not_checked")
    return {code: dict(zip(names, map(int, counts), strict=True)) for code, *counts in rows}


def test_the_dashboard_and_its_api_count_the_same_indicators(client, world, liaison):
    client.force_login(liaison)
    api = api_for(liaison)
    Indicator.objects.filter(pk__in=Indicator.objects.order_by("pk").values("pk")[:2]).update(rag="red")
    for query in ({}, {"rag": "red"}, {"agency": world["agency"].code}, {"critical": "true"}, {"q": "indicator"}):
        board = api.get(f"{API}dashboard/", query).json()
        counted = {
            agency.pop("code"): {rag: agency[rag] for rag in ("red", "yellow", "green", "not_checked")}
            for portfolio in board["portfolios"]
            for agency in portfolio["agencies"]
        }
        assert summary_counts(client, query) == counted, query
        listed = api_rows(api, "indicators/", {**query, "active": "true"}, 1000)
        if query:  # a filter that narrows the indicators lists them on the page too
            shown = page_rows(client, reverse("dashboard"), query, "indicator")
            rags = Counter(Indicator.objects.get(pk=pk).rag or "not_checked" for pk in shown)
            assert {rag: n for rag, n in board["totals"].items() if n} == dict(rags), query
            assert sorted(listed) == sorted(shown), query
        else:  # the bare page is the summary alone
            assert "data-indicator=" not in client.get(reverse("dashboard")).text
            assert sum(board["totals"].values()) == len(listed) > 0
    # A code that names nothing selects nothing, on both; a value of the wrong kind is refused by both.
    assert api.get(f"{API}dashboard/", {"portfolio": "XX"}).json()["totals"] == dict.fromkeys(board["totals"], 0)
    assert summary_counts(client, {"portfolio": "XX"}) == {}
    assert api.get(f"{API}dashboard/", {"rag": "purple"}).status_code == 400
    assert "data-indicator=" not in client.get(reverse("dashboard"), {"rag": "purple"}).text


@pytest.mark.parametrize(
    ("page", "path", "query"),
    [
        ("audit_log", "events/", {"until": "9999-12-31"}),
        ("audit_log", "events/", {"since": "0001-01-01T00:00:00Z"}),
        ("audit_log", "events/", {"since": "last tuesday"}),
        ("flag_queue", "flags/", {"severity": "purple"}),
        ("flag_queue", "flags/", {"due": "yesterday"}),
        ("dashboard", "dashboard/", {"rag": "purple"}),
    ],
)
def test_the_page_and_the_api_refuse_the_same_bad_filter(client, world, page, path, query):
    client.force_login(world["lead"])
    response = client.get(reverse(page), query)
    assert response.status_code == 400
    assert 'class="field-error" role="alert"' in response.text  # the page says what is wrong, at its field
    refused = api_for(world["lead"]).get(f"{API}{path}", query)
    assert refused.status_code == 400 and set(refused.json()["fields"]) == set(query)


def test_with_breakouts_the_queue_and_the_api_list_the_same_cases(client, world):
    """The queue groups a breakout's case under its parent's (so within a page its order may differ from the
    API's flat priority order), but every query lists the same cases on both."""
    agency, lead = world["agency"], world["lead"]
    parent = IndicatorFactory(agency=agency, name="Streets clean")
    FlagFactory(indicator=parent)
    for place, severity in (("Bronx CD 1", "red"), ("Bronx CD 2", "yellow"), ("Queens CD 4", "yellow")):
        breakout = IndicatorFactory(agency=agency, parent=parent, name=f"Streets clean — {place}")
        FlagFactory(indicator=breakout, severity=severity)
    client.force_login(lead)
    api = api_for(lead)
    for query in FLAG_QUERIES:
        page = page_rows(client, reverse("flag_queue"), query, "flag")
        flat = api_rows(api, "flags/", query, 50)
        assert sorted(page) == sorted(flat) and len(page) == len(set(page)), query
    grouped = page_rows(client, reverse("flag_queue"), FLAG_QUERIES[0], "flag")
    assert grouped != api_rows(api, "flags/", FLAG_QUERIES[0], 50)  # the everyday view does regroup them
