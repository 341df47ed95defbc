"""The Comptroller's tidy file: the real shipped file with 1,139 indicators, and broken copies of it."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.models import UNASSIGNED_AGENCY_CODE, ImportBatch, Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import REAL_FILE, fingerprint, load, replace_cell

pytestmark = pytest.mark.django_db


def test_the_real_file_imports_every_indicator_with_its_fiscal_year_series():
    outcome = load(REAL_FILE)

    assert outcome.format == "comptroller"
    assert outcome.counts["indicators_created"] == Indicator.objects.count() == 1139
    assert outcome.counts["measurements_created"] == Measurement.objects.count() > 8000
    indicator = Indicator.objects.get(external_id="119")
    assert indicator.agency.code == "DOB"
    assert (indicator.desired_direction, indicator.critical, indicator.target, indicator.target_kind) == (
        "down", True, Decimal(12), "numeric",
    )  # fmt: skip
    series = list(indicator.measurements.values_list("period", "value", "preliminary"))
    assert series[0] == (dt.date(2015, 7, 1), Decimal("11.11"), False)  # FY2016
    assert series[-1] == (dt.date(2022, 7, 1), Decimal("4.5"), True)  # FY2023: the PMMR projection
    assert len(series) == 8
    # 164 rows name no agency: kept under UNASSIGNED, each reported.
    assert Indicator.objects.filter(agency__code=UNASSIGNED_AGENCY_CODE).count() == 164
    assert sum("UNASSIGNED" in w.message for w in outcome.warnings) == 164
    assert outcome.batch.sha256 and outcome.batch.rows_read == 1139


def test_a_second_import_of_the_real_file_changes_nothing():
    load(REAL_FILE)
    before = fingerprint()

    again = load(REAL_FILE)

    assert again.duplicate_of is not None
    assert fingerprint() == before


def test_the_same_values_in_a_different_file_leave_every_measurement_unchanged():
    load(REAL_FILE)
    before = fingerprint()

    outcome = import_file(file_name="copy.csv", content=REAL_FILE.read_bytes() + b"\n")

    assert outcome.duplicate_of is None
    assert outcome.counts["measurements_created"] == outcome.counts["measurements_restated"] == 0
    assert outcome.counts["indicators_updated"] == 0
    after = fingerprint()
    assert after[4] == before[4] + 1  # the new batch
    assert after[:4] == before[:4] and after[5:] == before[5:]


def test_a_corrupted_cell_imports_nothing_and_names_line_and_column():
    broken = replace_cell(REAL_FILE.read_bytes(), 500, "2021", "abc")

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=broken)

    assert [str(problem) for problem in rejected.value.errors] == ['line 500, column 2021: "abc" is not a number']
    assert Indicator.objects.count() == Measurement.objects.count() == ImportBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (2, "Desired.Direction", "Sideways", "is not a direction"),
        (3, "Critical", "Perhaps", "TRUE/FALSE"),
        (4, "Target.MMR", "soon", "is not a target"),
        (5, "ID", "", "the indicator ID is empty"),
        (6, "ID", "114", 'indicator ID "114" already appears on line 2'),
        (7, "Indicator", "", "the indicator name is empty"),
    ],
)
def test_every_kind_of_bad_cell_is_reported_with_line_and_column(line, column, value, message):
    load(REAL_FILE)
    before = fingerprint()
    broken = replace_cell(REAL_FILE.read_bytes(), line, column, value)

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=broken)

    (problem,) = rejected.value.errors
    assert (problem.line, problem.column) == (line, column)
    assert message in problem.message
    assert fingerprint() == before
