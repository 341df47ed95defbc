"""MMR and PMMR open-data extracts in wide layout: the FY16 MMR sample as published, a PMMR extract with
4-month columns, and broken copies."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.importers.mmr_wide import derive_external_id
from indicators.models import Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import DATA, FY16_SAMPLE, fingerprint, load, replace_cell

PMMR_FILE = DATA / "pmmr-fy17-wide.csv"
pytestmark = pytest.mark.django_db


def test_the_fy16_sample_imports_with_derived_ids_values_and_targets():
    outcome = load(FY16_SAMPLE)

    assert outcome.format == "mmr_wide"
    assert outcome.counts["indicators_created"] == 10
    assert outcome.warnings == []  # the sample's agency "3-1-1" is the known agency 311
    visits = Indicator.objects.get(external_id="MMR-311-311-online-site-visits-000")
    assert visits.agency.code == "311" and visits.critical and visits.desired_direction == "up"
    assert visits.target_kind == "up" and visits.target is None  # tgt16 "Up": directional, kept as such
    assert list(visits.measurements.values_list("period", "value")) == [
        (dt.date(2011, 7, 1), Decimal(2117)),
        (dt.date(2012, 7, 1), Decimal(3998)),
        (dt.date(2013, 7, 1), Decimal(5248)),
        (dt.date(2014, 7, 1), Decimal(9656)),
        (dt.date(2015, 7, 1), Decimal(13018)),
    ]
    wait = Indicator.objects.get(name="Average wait time (tier 1 calls) (minutes:seconds)")
    assert (wait.measurement_type, wait.unit, wait.target) == ("timespan", "seconds", Decimal(30))
    assert wait.measurements.get(period=dt.date(2011, 7, 1)).value == 45  # 0:45
    answered = Indicator.objects.get(name="Calls answered in 30 seconds (%)")
    assert (answered.measurement_type, answered.unit) == ("percentage", "%")
    assert answered.measurements.get(period=dt.date(2015, 7, 1)).value == 89
    assert Indicator.objects.get(name="311 calls (000)").target_kind == "none"  # "*"
    # "NA" cells are missing values, not zeros.
    assert Indicator.objects.get(name="311 mobile app contacts (000)").measurements.count() == 2


def test_the_derived_id_is_stable_short_and_keeps_percent_apart():
    assert derive_external_id("3-1-1", "Calls answered in 30 seconds (%)") == "MMR-311-calls-answered-in-30-seconds-pct"
    assert derive_external_id("3-1-1", "Calls answered") != derive_external_id("3-1-1", "Calls answered (%)")
    long_name = "Average time to complete an inspection " * 5
    assert len(derive_external_id("DOHMH", long_name)) <= 61
    assert derive_external_id("DOHMH", long_name) == derive_external_id("DOHMH", long_name)
    assert derive_external_id("DOHMH", long_name) != derive_external_id("DOHMH", long_name + "x")


def test_pmmr_four_month_columns_are_a_preliminary_series_of_their_own():
    load(FY16_SAMPLE)
    outcome = load(PMMR_FILE)

    calls = Indicator.objects.get(external_id="MMR-311-311-calls-000")
    four_month = Indicator.objects.get(external_id="MMR-311-311-calls-000-4M")
    assert four_month.frequency == "four_month" and four_month.target_kind == "none"
    assert list(four_month.measurements.values_list("period", "value", "preliminary")) == [
        (dt.date(2015, 7, 1), Decimal(6310), True),
        (dt.date(2016, 7, 1), Decimal(6102), True),
    ]
    # The full-year values of the same indicator line up with the FY16 MMR's, unchanged.
    assert calls.measurements.get(period=dt.date(2015, 7, 1)).value == 18799
    assert outcome.counts["measurements_restated"] == 0
    refuse = Indicator.objects.get(external_id="MMR-DSNY-tons-of-refuse-disposed-per-truck-shift")
    assert refuse.target_kind == "tbd"  # "?"


def test_a_broken_wide_file_imports_nothing_and_reports_every_cell():
    content = replace_cell(FY16_SAMPLE.read_bytes(), 3, "fy14", "lots")
    content = replace_cell(content, 8, "critical", "sometimes")
    content = replace_cell(content, 9, "tgt16", "high")
    before = fingerprint()

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=content)

    assert [(p.line, p.column) for p in rejected.value.errors] == [(3, "fy14"), (8, "critical"), (9, "tgt16")]
    assert fingerprint() == before


def test_the_same_indicator_twice_in_one_extract_is_an_error():
    lines = FY16_SAMPLE.read_bytes().splitlines(keepends=True)
    content = b"".join([*lines, lines[2]])

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="twice.csv", content=content)

    (problem,) = rejected.value.errors
    assert problem.line == 12 and "already appears on line 3" in problem.message
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize("column", ["fy0000", "fy2101_4_month_actual", "tgt1899"])
def test_a_year_that_cannot_be_a_fiscal_year_is_refused_on_line_1(column):
    content = f"agency,performance_indicator,fy2016,{column}\nDSNY,Tons,1,2\n".encode()

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="years.csv", content=content)

    (problem,) = rejected.value.errors
    assert (problem.line, problem.column) == (1, column) and "not a fiscal year from 1900 to 2100" in problem.message
    assert Measurement.objects.count() == 0
