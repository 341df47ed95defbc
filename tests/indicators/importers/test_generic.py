"""The generic long CSV and JSON formats, for indicators that already exist."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from indicators.models import Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import GENERIC_CSV, GENERIC_JSON, fingerprint, load

pytestmark = pytest.mark.django_db


def test_generic_csv_adds_monthly_values_over_two_fiscal_years(long_imported):
    outcome = load(GENERIC_CSV)

    assert outcome.format == "generic"
    assert outcome.counts["measurements_created"] == 26
    monthly = Measurement.objects.filter(indicator__external_id="1001-M", period__gte=dt.date(2023, 7, 1))
    assert monthly.count() == 24
    assert monthly.get(period=dt.date(2025, 6, 1)).value == 269
    fiscal = dict(Measurement.objects.filter(indicator__external_id="1002").values_list("period", "value"))
    assert fiscal[dt.date(2023, 7, 1)] == Decimal("72.4")  # "FY2024"
    assert fiscal[dt.date(2024, 7, 1)] == Decimal("73.1")  # 2025-06-30 lies in FY2025


def test_generic_json_reads_the_same_records(long_imported):
    load(GENERIC_CSV)

    outcome = load(GENERIC_JSON)

    assert outcome.format == "generic_json"
    assert outcome.counts == {
        "indicators_created": 0,
        "indicators_updated": 0,
        "indicators_extended": 0,
        "measurements_created": 1,
        "measurements_restated": 2,
        "measurements_unchanged": 0,
    }
    fires = Measurement.objects.get(indicator__external_id="1003-M", period=dt.date(2023, 7, 1))
    assert fires.value == 261  # "4:21"
    assert Measurement.objects.get(indicator__external_id="1002", period=dt.date(2023, 7, 1)).preliminary


def test_unknown_indicators_are_errors_with_line_and_column(long_imported):
    content = b"indicator,period,value\n1001-M,2024-01,5\nNOPE,2024-01,5\n1001-M,FY2024,5\n1002,someday,5\n"
    before = fingerprint()

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="g.csv", content=content)

    assert [(p.line, p.column) for p in rejected.value.errors] == [(3, "indicator"), (4, "period"), (5, "period")]
    assert "NOPE" in rejected.value.errors[0].message
    assert "monthly" in rejected.value.errors[1].message
    assert fingerprint() == before


def test_a_period_given_twice_names_the_first_line(long_imported):
    content = b"indicator,period,value\n1001-M,2024-01,5\n1001-M,2024-01-31,6\n"

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="g.csv", content=content)

    (problem,) = rejected.value.errors
    assert (problem.line, problem.column) == (3, "value") and "on line 2" in problem.message


@pytest.mark.parametrize(
    ("document", "line", "column", "message"),
    [
        ([{"indicator": "1001-M", "period": "2024-01", "value": "x"}], 2, "value", "is not a number"),
        ([{"indicator": "1001-M", "period": "2024-01", "value": True}], 2, "value", "is not a number"),
        ([{"indicator": "1001-M", "period": "2024-01"}], 2, "value", "has no value"),
        ([{"indicator": "1001-M", "period": "2024-01", "value": 1}, 7], 3, "indicator", "is not an object"),
        ([{"indicator": "1001-M", "period": "2024-01", "value": 1, "preliminary": "maybe"}], 2, "preliminary", "TRUE"),
    ],
)
def test_broken_json_rows_report_line_and_key(long_imported, document, line, column, message):
    content = ("[\n" + ",\n".join(json.dumps(item) for item in document) + "\n]").encode()
    before = fingerprint()

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="g.json", content=content)

    (problem,) = rejected.value.errors
    assert (problem.line, problem.column) == (line, column)
    assert message in problem.message
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[{"indicator": "1001-M", "period": "2024-01", "value": 1', "JSON is invalid"),
        (b'{"indicator": "1001-M"}', "is an array"),
        (b"[1 2]", "expected , or ]"),
        (b"[]  []", "after the end"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_invalid_json_is_refused_whole(long_imported, content, message):
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="g.json", content=content)

    assert message in rejected.value.errors[-1].message
