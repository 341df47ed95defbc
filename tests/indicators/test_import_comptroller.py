"""The Comptroller tidy format, fed the real shipped file and broken copies of it."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from indicators.models import Agency, ImportBatch, Indicator, Measurement, MeasurementRevision, TargetKind
from indicators.services import ImportRejected, import_file

REAL_FILE = Path(settings.BASE_DIR) / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"

pytestmark = pytest.mark.django_db


def real_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(REAL_FILE.read_text(encoding="utf-8"))))


def as_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def table_counts() -> tuple[int, ...]:
    return (
        Indicator.objects.count(),
        Measurement.objects.count(),
        ImportBatch.objects.count(),
        Agency.objects.count(),
        MeasurementRevision.objects.count(),
    )


def test_real_file_gives_every_indicator_with_its_fiscal_year_series():
    outcome = import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    rows = real_rows()
    header, body = rows[0], rows[1:]
    assert Indicator.objects.count() == 1139 == outcome.counts["indicators_created"]
    expected_values = sum(1 for row in body for year in range(2016, 2024) if row[header.index(str(year))] != "NA")
    assert Measurement.objects.count() == expected_values

    # One indicator, checked cell by cell against the file.
    row = next(r for r in body if r[0] == "119")
    indicator = Indicator.objects.get(external_id="119")
    assert indicator.agency.code == "DOB"
    assert indicator.desired_direction == "down" and indicator.critical
    assert (indicator.target, indicator.target_kind) == (Decimal("12"), TargetKind.NUMERIC)
    series = dict(indicator.measurements.values_list("period__year", "value"))
    assert series == {year - 1: Decimal(row[header.index(str(year))]) for year in range(2016, 2024)}
    assert indicator.measurements.get(period__year=2022).preliminary  # FY2023 is the PMMR projection

    unassigned = Indicator.objects.filter(agency__code="UNASSIGNED").count()
    assert unassigned == sum(1 for r in body if r[header.index("Agency.Full.Name.y")] == "NA") == 164
    assert len([w for w in outcome.warnings if "UNASSIGNED" in w.message]) == 164


def test_a_second_import_changes_nothing():
    import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    before = table_counts()
    outcome = import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    assert outcome.duplicate_of is not None
    assert table_counts() == before


def test_the_same_data_in_a_different_file_changes_nothing_either():
    import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    before = table_counts()
    outcome = import_file(file_name="copy.csv", content=REAL_FILE.read_bytes().replace(b"\n", b"\r\n"))
    assert outcome.counts["measurements_created"] == outcome.counts["measurements_restated"] == 0
    assert table_counts()[:2] == before[:2]


def test_a_corrupted_cell_imports_nothing_and_names_line_and_column():
    rows = real_rows()
    rows[500][rows[0].index("2021")] = "abc"
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=as_bytes(rows))
    assert [str(e) for e in rejected.value.errors] == ['line 501, column 2021: "abc" is not a number']
    assert table_counts() == (0, 0, 0, Agency.objects.count(), 0)
    assert not Indicator.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda rows: rows[3].__setitem__(rows[0].index("Critical"), "maybe"), "line 4, column Critical"),
        (
            lambda rows: rows[7].__setitem__(rows[0].index("Desired.Direction"), "Sideways"),
            "line 8, column Desired.Direction",
        ),
        (lambda rows: rows[9].__setitem__(rows[0].index("Target.MMR"), "lots"), "line 10, column Target.MMR"),
        (lambda rows: rows[5].__setitem__(0, rows[4][0]), "line 6, column ID"),
        (lambda rows: rows[2].pop(), "line 3, column 2023: has 16 cells"),
    ],
)
def test_each_kind_of_bad_row_is_reported(mutate, expected):
    rows = real_rows()
    mutate(rows)
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=as_bytes(rows))
    assert any(str(error).startswith(expected) for error in rejected.value.errors), rejected.value.errors
    assert not Indicator.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("ID,Agency.Full.Name.y,Indicator\n1,Caf\u00e9,x\n".encode("latin-1"), "not UTF-8"),
        (b"foo,bar\n1,2\n", "matches no known format"),
    ],
)
def test_unreadable_files_are_refused_clearly(content, expected):
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="junk", content=content)
    assert expected in str(rejected.value.errors[0])


def test_a_restated_value_keeps_its_history(make_user):
    import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    rows = real_rows()
    row = next(r for r in rows if r[0] == "119")
    row[rows[0].index("2022")] = "9.75"
    user = make_user()
    outcome = import_file(file_name="restated.csv", content=as_bytes(rows), user=user)
    assert outcome.counts["measurements_restated"] == 1
    measurement = Measurement.objects.get(indicator__external_id="119", period__year=2021)
    assert measurement.value == Decimal("9.75")
    revision = measurement.revisions.get()
    assert (revision.old_value, revision.new_value, revision.changed_by, revision.batch) == (
        Decimal("8.5"),
        Decimal("9.75"),
        user,
        outcome.batch,
    )
    assert any(w.column == "2022" and "restated" in w.message for w in outcome.warnings)
    assert measurement.indicator.data_changed_at >= outcome.batch.imported_at  # re-evaluated by the next check


def test_dry_run_writes_nothing():
    outcome = import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes(), dry_run=True)
    assert outcome.batch is None and outcome.counts["indicators_created"] == 1139
    assert not Indicator.objects.exists() and not ImportBatch.objects.exists()
