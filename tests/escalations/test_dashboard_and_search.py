"""The dashboard's summary (portfolio → agency, worst first, each agency leading to a page of its indicators)
and the indicator search (the header's box, its suggestions and its results page), through Django's test
client as the users read them."""

import re

import pytest
from django.urls import reverse

from core.permissions import Role

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def summary_rows(text: str) -> list[str]:
    """The summary's rows in the page's order: a portfolio's name, or ``  CODE`` for an agency under it."""
    rows = re.findall(r'<tr class="portfolio-row" data-portfolio="[^"]*">\s*<th scope="rowgroup">([^<]+)<|'
                      r'<tr data-agency="([^"]+)"', text)  # fmt: skip
    return [portfolio or f"  {agency}" for portfolio, agency in rows]


@pytest.fixture
def board():
    """Two portfolios: the calmer one has more agencies, the other more red."""
    calm, troubled = PortfolioFactory(name="Calm portfolio"), PortfolioFactory(name="Troubled portfolio")
    agencies = {
        "GREENY": AgencyFactory(code="GREENY", portfolio=calm),
        "AMBER": AgencyFactory(code="AMBER", portfolio=calm),
        "ONERED": AgencyFactory(code="ONERED", portfolio=troubled),
        "TWORED": AgencyFactory(code="TWORED", portfolio=troubled),
    }
    for code, rags in {
        "GREENY": ["green"] * 5,
        "AMBER": ["yellow", "yellow", "green"],
        "ONERED": ["red", "yellow", "green"],
        "TWORED": ["red", "red"],
    }.items():
        for rag in rags:
            IndicatorFactory(agency=agencies[code], rag=rag)
    FlagFactory(indicator__agency=agencies["ONERED"], severity="red")
    return agencies


def test_the_summary_lists_portfolios_and_agencies_worst_first(client, make_user, board):
    client.force_login(make_user(Role.PROJECT_MANAGER))
    page = client.get(reverse("dashboard")).text
    rows = [row for row in summary_rows(page) if row.strip() in (*board, "Calm portfolio", "Troubled portfolio")]
    assert rows == ["Troubled portfolio", "  TWORED", "  ONERED", "Calm portfolio", "  AMBER", "  GREENY"]
    assert "data-indicator=" not in page  # the summary alone: the first page is short
    onered = re.search(r'<tr data-agency="ONERED".*?</tr>', page, re.S).group(0)
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', onered)] == [1, 1, 1, 1]  # R, Y, G, open cases


def test_an_agency_leads_to_its_indicators_a_page_at_a_time(client, make_user, board):
    for _ in range(60):
        IndicatorFactory(agency=board["GREENY"], rag="green")
    IndicatorFactory(agency=board["GREENY"], rag="red", name="The worst one")
    client.force_login(make_user(Role.AUDITOR))
    page = client.get(reverse("dashboard")).text
    assert 'href="?agency=GREENY"' in page
    first = client.get(reverse("dashboard"), {"agency": "GREENY"}).text
    assert "Indicators of" in first and "66 indicators, worst first — page 1 of 2" in first
    assert first.count("data-indicator=") == 50
    assert "The worst one" in first.split("data-indicator=")[1]  # red first
    second = client.get(reverse("dashboard"), {"agency": "GREENY", "page": "2"}).text
    assert second.count("data-indicator=") == 16 and 'href="?agency=GREENY&amp;page=1"' in second
    # Another filter keeps its place in the agency's link.
    red = client.get(reverse("dashboard"), {"rag": "red"}).text
    assert 'href="?rag=red&amp;agency=GREENY"' in red and red.count("data-indicator=") == 4


def test_the_header_search_box_is_on_every_page(client, liaison):
    client.force_login(liaison)
    for name in ("dashboard", "flag_queue", "project_board", "audit_log", "search"):
        text = client.get(reverse(name), follow=True).text
        assert 'id="site-search-q" name="q"' in text and f'action="{reverse("search")}"' in text, name


@pytest.mark.parametrize("role", [Role.LIAISON, Role.DEPUTY_MAYOR, Role.PROJECT_MANAGER, Role.AUDITOR])
def test_everyone_signed_in_finds_any_indicator(client, make_user, role):
    # Indicators are public performance data: a liaison finds another agency's too, as on the dashboard.
    elsewhere = IndicatorFactory(agency=AgencyFactory(), name="Pothole work orders", external_id="2900")
    client.force_login(make_user(role))
    for text in ("pothole", "2900", elsewhere.agency.code):
        results = client.get(reverse("search"), {"q": text}).text
        assert f'href="/indicators/{elsewhere.pk}/"' in results and "1 indicator found" in results, text
        suggestions = client.get(reverse("search_suggestions"), {"q": text}).text
        assert f'href="/indicators/{elsewhere.pk}/"' in suggestions
        assert client.get(reverse("indicator_detail", args=[elsewhere.pk])).status_code == 200


def test_words_of_an_agency_and_of_the_name_find_together(client, liaison):
    """The agency's code and a word of the name ("DOT pothole"), on the results page and in the suggestions."""
    roads = AgencyFactory(code="DOTZ", name="Department of Roads")
    potholes = IndicatorFactory(agency=roads, name="Pothole work orders", external_id="2900")
    lights = IndicatorFactory(agency=roads, name="Streetlights repaired", external_id="2950")
    elsewhere = IndicatorFactory(agency=AgencyFactory(code="PARKZ", name="Parks"), name="Pothole in a park path")
    client.force_login(liaison)
    for text, expected in {
        "DOTZ pothole": {potholes},
        "pothole dotz": {potholes},
        "roads pot": {potholes},
        "department roads": {potholes, lights},
        "parkz pothole": {elsewhere},
        "dotz park": set(),
    }.items():
        results = client.get(reverse("search"), {"q": text}).text
        suggestions = client.get(reverse("search_suggestions"), {"q": text}, HTTP_HX_REQUEST="true").text
        for page in (results, suggestions):
            shown = set(re.findall(r'href="/indicators/(\d+)/"', page))
            assert shown == {str(indicator.pk) for indicator in expected}, (text, shown)
        assert f"{len(expected)} indicator{'' if len(expected) == 1 else 's'} found" in results, text


def test_suggestions_are_few_and_lead_to_the_whole_list(client, liaison, agency):
    for n in range(25):
        IndicatorFactory(agency=agency, name=f"Trees planted {n}")
    client.force_login(liaison)
    suggestions = client.get(reverse("search_suggestions"), {"q": "tree"}).text
    assert suggestions.count('href="/indicators/') == 10
    assert 'href="/search/?q=tree"' in suggestions and "All results" in suggestions
    results = client.get(reverse("search"), {"q": "tree"}).text
    assert "25 indicators found" in results and results.count("data-indicator=") == 25
    assert client.get(reverse("search_suggestions"), {"q": ""}).text.strip() == ""
    assert "No indicator found" in client.get(reverse("search_suggestions"), {"q": "zebra"}).text


def test_search_answers_any_input_and_only_to_the_signed_in(client, liaison):
    for name in ("search", "search_suggestions"):
        assert client.get(reverse(name), {"q": "x"}).status_code == 302  # to sign in
    client.force_login(liaison)
    for text in ("\x00", "a & b | !c:*", "x" * 100_000, "'; drop table", "%", "_"):
        for name in ("search", "search_suggestions"):
            assert client.get(reverse(name), {"q": text}).status_code == 200, (name, text)
    assert client.get(reverse("dashboard"), {"q": "x" * 100_000}).status_code == 200  # its first 200 characters
