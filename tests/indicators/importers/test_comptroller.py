"""The Comptroller's tidy file: the real shipped file with 1,139 indicators, imported once for the module, and
broken copies of it."""

import csv
from decimal import Decimal

import pytest
from django.db import transaction

from indicators.models import UNASSIGNED_AGENCY_CODE, Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import REAL_FILE, fingerprint, load, nothing_changed, replace_cell

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_import")]

YEARS = [str(year) for year in range(2016, 2024)]
# Enough rows for every kind of bad row: each broken copy is checked in milliseconds instead of a second.
FIRST_ROWS = b"".join(REAL_FILE.read_bytes().splitlines(keepends=True)[:10])


@pytest.fixture(scope="module")
def real_import(django_db_setup, django_db_blocker):
    """The real file imported once for the whole module (an import takes a second or two), in a transaction
    rolled back after the module's last test. Each test runs in a savepoint inside it, so every test starts
    from the file just imported, whatever the tests before it wrote."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load(REAL_FILE)
        transaction.set_rollback(True)


def _file_rows() -> list[dict]:
    with REAL_FILE.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _number(cell: str) -> Decimal | None:
    """A cell's number as stored: the database keeps six decimals (a few FY2023 projections have nine)."""
    return None if cell == "NA" else round(Decimal(cell), 6)


def test_the_real_file_gives_every_indicator_as_the_comptroller_published_it(real_import):
    rows = _file_rows()
    outcome = real_import

    assert (outcome.format, outcome.rows, outcome.batch.rows_read) == ("comptroller", 1139, 1139)
    assert outcome.batch.sha256
    assert outcome.counts["indicators_created"] == Indicator.objects.count() == len(rows) == 1139
    # Every row, compared with the file read by plain csv: name, agency, direction, criticality, target and each
    # fiscal year's value. "NA" is no value (not a zero); the FY2023 value is the PMMR projection, so it alone is
    # preliminary.
    indicators = {indicator.external_id: indicator for indicator in Indicator.objects.select_related("agency")}
    stored: dict[str, dict] = {}
    for external_id, period, value, preliminary in Measurement.objects.values_list(
        "indicator__external_id", "period", "value", "preliminary"
    ):
        stored.setdefault(external_id, {})[period.year + 1] = (value, preliminary)
    values = 0
    for row in rows:
        indicator = indicators[row["ID"]]
        agency = row["Agency.Full.Name.y"] if row["Agency.Full.Name.y"] != "NA" else "Unassigned"
        assert (indicator.name, indicator.agency.name, indicator.desired_direction, indicator.critical) == (
            row["Indicator"], agency, row["Desired.Direction"].lower(), row["Critical"] == "Yes",
        ), row["ID"]  # fmt: skip
        target = _number(row["Target.MMR"])
        assert (indicator.target, indicator.target_kind) == (target, "numeric" if target is not None else "none")
        expected = {int(year): (_number(row[year]), year == "2023") for year in YEARS if row[year] != "NA"}
        assert stored.get(row["ID"], {}) == expected, row["ID"]
        values += len(expected)
    assert outcome.counts["measurements_created"] == Measurement.objects.count() == values > 8000

    # 164 rows name no agency: kept under UNASSIGNED, each reported. Every agency named is known (no "was not
    # known" warning); the other warnings are the file's own oddities, imported as published.
    no_agency = sum(1 for row in rows if row["Agency.Full.Name.y"] == "NA")
    assert no_agency == Indicator.objects.filter(agency__code=UNASSIGNED_AGENCY_CODE).count() == 164
    warnings = [warning.message for warning in outcome.warnings]
    assert sum("the indicator goes to UNASSIGNED" in message for message in warnings) == 164
    assert sum("is over 100 for a percentage" in message for message in warnings) == 9
    assert sum("× away from" in message for message in warnings) == 10
    # The file gives the Police Department's budget number (56) to five Department of Education indicators:
    # they go to the agency named, said once.
    assert Indicator.objects.get(external_id="3886").agency.code == "DOE"
    assert sum("budget number 56 is that of New York City Police Department" in m for m in warnings) == 1
    assert len(warnings) == 164 + 9 + 10 + 1


def test_a_second_import_of_the_real_file_changes_nothing(real_import):
    before = fingerprint()

    again = load(REAL_FILE)

    assert again.duplicate_of == real_import.batch
    assert fingerprint() == before


def test_the_same_values_in_a_different_file_leave_every_measurement_unchanged():
    before = fingerprint()

    # The same file saved again with Windows line endings: a different file (SHA-256), the same values.
    outcome = import_file(file_name="copy.csv", content=REAL_FILE.read_bytes().replace(b"\n", b"\r\n"))

    assert outcome.duplicate_of is None
    assert outcome.counts == nothing_changed(before[2])  # every stored value
    after = fingerprint()
    assert after[4] == before[4] + 1  # the new batch
    assert after[:4] == before[:4] and after[5:] == before[5:]


def test_a_corrupted_cell_imports_nothing_and_names_line_and_column():
    before = fingerprint()
    broken = replace_cell(REAL_FILE.read_bytes(), 500, "2021", "abc")

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=broken)

    assert [str(problem) for problem in rejected.value.errors] == ['line 500, column 2021: "abc" is not a number']
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (2, "Desired.Direction", "Sideways", '"Sideways" is not a direction'),
        (3, "Critical", "Perhaps", '"Perhaps" is not one of TRUE/FALSE'),
        (4, "Target.MMR", "soon", '"soon" is not a target'),
        (5, "ID", "", "the indicator ID is empty"),
        (6, "ID", "114", 'indicator ID "114" already appears on line 2'),
        (7, "Indicator", "", "the indicator name is empty"),
        (8, "2023", None, "has 16 cells where the header has 17: this cell is missing"),
    ],
)
def test_every_kind_of_bad_row_is_reported_with_line_and_column(line, column, value, message):
    before = fingerprint()
    if value is None:  # the row ends before the column
        lines = FIRST_ROWS.splitlines(keepends=True)
        lines[line - 1] = lines[line - 1].rsplit(b",", 1)[0] + b"\n"
        broken = b"".join(lines)
    else:
        broken = replace_cell(FIRST_ROWS, line, column, value)

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=broken)

    (problem,) = rejected.value.errors
    assert (problem.line, problem.column) == (line, column)
    assert message in problem.message
    assert fingerprint() == before
