"""The indicator search (``indicators_matching``) finds an indicator by the words of its name (their beginnings
too, as one types), its MMR ID, its agency's code or name, and its service — on SQLite by substrings, on
PostgreSQL through the full-text GIN index of migration 0011."""

import pytest
from django.db import connection

from indicators.models import Indicator
from indicators.selectors import indicators_matching

from ..conftest import require_service
from ..factories import AgencyFactory, IndicatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicators():
    sanitation = AgencyFactory(code="DSNYX", name="Department of Street Sweeping")
    transport = AgencyFactory(code="DOTX", name="Department of Roads")
    return {
        "potholes": IndicatorFactory(
            agency=transport, external_id="2900", name="Pothole work orders", service="Maintain the roads."
        ),
        "repairs": IndicatorFactory(
            agency=transport, external_id="2903", name="Average time to close a pothole work order"
        ),
        "collection": IndicatorFactory(
            agency=sanitation, external_id="114", name="Missed collections (%)", service="Clean streets and lots."
        ),
    }


def found(text: str) -> set[str]:
    return {indicator.external_id for indicator in indicators_matching(Indicator.objects.all(), text)}


def test_finds_by_the_words_of_the_name_and_their_beginnings(indicators):
    assert found("pothole") == {"2900", "2903"}
    assert "2900" in found("Pothole work orders")
    assert found("pot") == {"2900", "2903"}  # as one types
    assert found("close pothole") == {"2903"}  # every word
    assert found("missed collect") == {"114"}


def test_finds_by_mmr_id(indicators):
    assert found("2903") == {"2903"}
    assert found(" 114 ") == {"114"}


def test_finds_by_agency_code_or_name(indicators):
    assert found("dotx") == {"2900", "2903"}
    assert found("Street Sweeping") == {"114"}
    assert found("department of roads") == {"2900", "2903"}


def test_every_word_matches_somewhere_agency_code_or_name_included(indicators):
    # An agency's code or a word of its name beside a word of the indicator: every word must match somewhere.
    assert found("DOTX pothole") == {"2900", "2903"}
    assert found("pothole dotx") == {"2900", "2903"}
    assert found("dotx close") == {"2903"}
    assert found("roads pothole average") == {"2903"}  # "roads": the agency's name (and 2900's service)
    assert found("dotx 2900") == {"2900"}
    assert found("sweeping missed") == {"114"}
    assert found("DSNYX pothole") == set()  # the other agency's code: no pothole there
    assert found("dotx zebra") == set()
    # A stop word narrows nothing, though "of" begins a word of both agencies' names.
    assert found("pothole of") == {"2900", "2903"}
    assert found("collections of") == {"114"}


def test_finds_by_service(indicators):
    assert found("clean streets") == {"114"}
    assert found("maintain") == {"2900"}


def test_finds_nothing_for_nothing_and_survives_any_input(indicators):
    assert found("") == found("   ") == found("!!! & | :*") == set()
    assert found("zebra") == set()
    for text in ("a & b | !c:*", "'\"\\", "pothole\x00", "x" * 10_000, "word " * 500, "(pothole"):
        found(text)  # no error, whatever was typed
    assert found("(pothole)") == {"2900", "2903"}


def test_postgresql_searches_through_the_gin_index(indicators):
    require_service("PostgreSQL", connection.vendor == "postgresql")  # the GIN index exists there only
    assert found("orders") == {"2900", "2903"}  # English stems: "orders" finds "order"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole otherwise
    for text in ("pothole", "dotx pothole", "roads average pothole"):
        plan = indicators_matching(Indicator.objects.order_by(), text).explain()
        assert "indicator_search" in plan, (text, plan)
