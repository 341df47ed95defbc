"""Community-district breakouts on the triage queue: a breakout's case follows its parent indicator's case (or a
header naming the parent), indented and labelled with its place; the group sits where its highest-priority
case would; paging and bulk selection are unchanged, and the API still lists the cases flat."""

from decimal import Decimal

import pytest
from django.urls import reverse

from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Flag
from escalations.queue_groups import breakout_place
from indicators.models import Indicator

from ..factories import FlagFactory, IndicatorFactory
from .test_filters_agree import api_for, api_rows
from .test_page_queries import QUEUE_MAX_QUERIES, count_queries
from .test_queue import QUEUE, row, rows

pytestmark = pytest.mark.django_db

EVERYDAY = {"open": "true", "category": "performance", "ordering": "-priority"}
CLEAN = "Streets rated acceptably clean (%)"


@pytest.fixture
def district(agency) -> dict[str, Flag]:
    """A parent indicator's yellow case, three of its community-district breakouts' cases (the Bronx CD 1 one
    red, the queue's top priority), and two cases of other indicators: one between, one below.

    Priorities: Bronx CD 1 38 (red), other 33 (weight 3), Brooklyn CD 3 28 (weight 2), the parent 23,
    Bronx CD 2 23, low 20 (barely beyond its threshold)."""
    parent = IndicatorFactory.create(agency=agency, name=CLEAN, external_id="2012")

    def breakout(place: str, **fields) -> Indicator:
        return IndicatorFactory.create(agency=agency, parent=parent, name=f"{CLEAN} — {place}", **fields)

    return {
        "parent": FlagFactory.create(indicator=parent),
        "bx1": FlagFactory.create(indicator=breakout("Bronx CD 1"), severity="red"),
        "other": FlagFactory.create(indicator__agency=agency, indicator__public_impact_weight=3),
        "bk3": FlagFactory.create(indicator=breakout("Brooklyn CD 3", public_impact_weight=2)),
        "bx2": FlagFactory.create(indicator=breakout("Bronx CD 2")),
        "low": FlagFactory.create(indicator__agency=agency, beyond=Decimal("1")),
    }


def pks(district: dict[str, Flag], *names: str) -> list[int]:
    return [district[name].pk for name in names]


def test_breakouts_follow_their_parents_case_where_the_top_one_sits(client, liaison, district):
    client.force_login(liaison)
    page = client.get(QUEUE, EVERYDAY).text
    # The API's order: priority alone. The page: the same cases, the group where its red breakout sits.
    flat = api_rows(api_for(liaison), "flags/", EVERYDAY, 50)
    assert flat == pks(district, "bx1", "other", "bk3", "parent", "bx2", "low")
    assert rows(page) == pks(district, "parent", "bx1", "bk3", "bx2", "other", "low")

    parent = row(page, district["parent"].pk)
    assert f"{CLEAN}</a>" in parent and "+3 breakouts" in parent and 'class="breakout"' not in parent
    for name, place in (("bx1", "Bronx CD 1"), ("bk3", "Brooklyn CD 3"), ("bx2", "Bronx CD 2")):
        breakout = row(page, district[name].pk)
        assert breakout.startswith(' class="breakout"')  # indented
        assert f"Breakout: {place}</span>" in breakout and f"> of {CLEAN}</span>" in breakout
    for name in ("other", "low"):
        assert "Breakout" not in row(page, district[name].pk) and "breakouts" not in row(page, district[name].pk)
    # Every case, a breakout's too, can be selected for a bulk action.
    for pk in pks(district, "parent", "bx1", "bk3", "bx2", "other", "low"):
        assert f'name="ids" value="{pk}"' in page


def test_a_parent_without_a_case_gets_a_header_naming_it(client, liaison, district):
    services.flag_dismiss(flag=district["parent"], actor=liaison, reason_code="other", note="Citywide is fine")
    client.force_login(liaison)
    page = client.get(QUEUE, EVERYDAY).text
    assert rows(page) == pks(district, "bx1", "bk3", "bx2", "other", "low")
    header = page.split(f'<tr class="breakout-group" data-group="{district["parent"].indicator_id}">', 1)[1]
    header = header.split("</tr>", 1)[0]
    assert f"{CLEAN}</a>" in header and "3 breakout cases below" in header and 'name="ids"' not in header
    # The header comes right before its breakouts, at the top (where the red one sits).
    assert page.index('class="breakout-group"') < page.index(f'<tr data-flag="{district["bx1"].pk}"')
    assert page.index('class="breakout-group"') > page.index("<tbody>")
    assert page.count('class="breakout-group"') == 1


def test_a_breakout_alone_on_the_page_is_still_shown_under_its_parent(client, liaison, district):
    client.force_login(liaison)
    page = client.get(QUEUE, {**EVERYDAY, "severity": "red"}).text
    assert rows(page) == pks(district, "bx1")
    assert "1 breakout case below" in page and "Breakout: Bronx CD 1" in page


def test_bulk_actions_reach_breakout_rows(client, liaison, district):
    client.force_login(liaison)
    back = f"{QUEUE}?open=true&category=performance&ordering=-priority"
    response = client.post(reverse("flag_bulk"), {"ids": pks(district, "bx1", "bx2"), "action": "review", "next": back})
    assert response.status_code == 302
    statuses = dict(Flag.objects.filter(pk__in=pks(district, "bx1", "bx2", "parent")).values_list("pk", "status"))
    assert statuses == {
        district["bx1"].pk: FlagStatus.IN_REVIEW,
        district["bx2"].pk: FlagStatus.IN_REVIEW,
        district["parent"].pk: FlagStatus.DETECTED,
    }


def test_groups_are_made_within_a_page(client, liaison, agency):
    """Paging is the list's: a breakout on page 2 whose parent's case is on page 1 stays on page 2, under a
    header naming its parent, and page 1 counts no breakout it does not show."""
    parent = IndicatorFactory.create(agency=agency, name=CLEAN, critical=True)
    first = FlagFactory.create(indicator=parent, severity="red")
    fillers = [FlagFactory.create(indicator__agency=agency, severity="red") for _ in range(49)]
    late = FlagFactory.create(
        indicator=IndicatorFactory.create(agency=agency, parent=parent, name=f"{CLEAN} — Queens CD 7"),
        beyond=Decimal("1"),
    )
    client.force_login(liaison)
    one = client.get(QUEUE, EVERYDAY).text
    assert rows(one)[0] == first.pk and len(rows(one)) == 50 and set(rows(one)[1:]) == {f.pk for f in fillers}
    assert "breakout" not in row(one, first.pk)
    two = client.get(QUEUE, {**EVERYDAY, "page": "2"}).text
    assert rows(two) == [late.pk]
    assert f'data-group="{parent.pk}"' in two and "1 breakout case below" in two and "Breakout: Queens CD 7" in two


def test_the_api_names_a_breakouts_parent(client, liaison, district):
    listed = api_for(liaison).get("/api/v1/flags/", {**EVERYDAY, "page_size": 50}).json()["results"]
    parents = {flag["id"]: flag["indicator"]["parent"] for flag in listed}
    parent_id = district["parent"].indicator_id
    assert parents == {
        district["parent"].pk: None,
        district["bx1"].pk: parent_id,
        district["bk3"].pk: parent_id,
        district["bx2"].pk: parent_id,
        district["other"].pk: None,
        district["low"].pk: None,
    }


@pytest.mark.parametrize(
    ("name", "parent", "place"),
    [
        (f"{CLEAN} — Bronx CD 1", CLEAN, "Bronx CD 1"),
        (f"{CLEAN} - Manhattan", CLEAN, "Manhattan"),
        (f"{CLEAN.upper()} (Staten Island CD 2)", CLEAN, "Staten Island CD 2"),
        ("Bronx CD 1 street cleanliness", CLEAN, "Bronx CD 1 street cleanliness"),  # not the parent's name first
        (CLEAN, CLEAN, CLEAN),  # nothing after the parent's name: the whole name
    ],
)
def test_a_breakouts_place_is_read_from_its_name(name, parent, place):
    assert breakout_place(Indicator(name=name, parent=Indicator(name=parent))) == place


def test_grouping_costs_no_query(client, liaison, agency, district):
    """The parent of each breakout comes with the page of cases; the queue's budget holds with groups."""
    client.force_login(liaison)
    grouped = count_queries(client, QUEUE, **EVERYDAY)
    assert grouped <= QUEUE_MAX_QUERIES
    Indicator.objects.update(parent=None)  # the same cases, no breakouts
    assert count_queries(client, QUEUE, **EVERYDAY) == grouped
