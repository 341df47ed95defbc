"""The NYC Open Data long table: a hand-made file with monthly data over two fiscal years, annual, time-span,
retired and geographic-breakout indicators, and broken copies."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from indicators.models import Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import LONG_FILE, fingerprint, load, replace_cell

pytestmark = pytest.mark.django_db


def series(external_id: str) -> list[tuple]:
    return list(Measurement.objects.filter(indicator__external_id=external_id).values_list("period", "value"))


def test_june_rows_give_the_fiscal_year_and_october_rows_the_four_month_value(long_imported):
    assert long_imported.format == "open_data_long"
    refuse = Indicator.objects.get(external_id="1001")
    assert (refuse.agency.code, refuse.frequency, refuse.critical) == ("DSNY", "annual", True)
    # FY2022 and FY2023 totals are the June rows' year-to-date values.
    assert series("1001") == [(dt.date(2021, 7, 1), Decimal(3078)), (dt.date(2022, 7, 1), Decimal(3138))]
    assert series("1001-4M") == [(dt.date(2021, 7, 1), Decimal(1034)), (dt.date(2022, 7, 1), Decimal(1054))]
    assert set(Measurement.objects.filter(indicator__external_id="1001-4M").values_list("preliminary", flat=True)) == {
        True
    }


def test_monthly_rows_form_a_monthly_series_over_both_fiscal_years(long_imported):
    monthly = Indicator.objects.get(external_id="1001-M")
    assert monthly.frequency == "monthly"
    values = series("1001-M")
    assert len(values) == 24
    assert values[0] == (dt.date(2021, 7, 1), Decimal(257))
    assert values[-1] == (dt.date(2023, 6, 1), Decimal(261))


def test_annual_indicator_keeps_the_latest_target_and_its_percent_unit(long_imported):
    streets = Indicator.objects.get(external_id="1002")
    assert (streets.measurement_type, streets.unit) == ("percentage", "%")
    assert (streets.target, streets.target_kind) == (Decimal(71), "numeric")
    assert series("1002") == [(dt.date(2021, 7, 1), Decimal("70.5")), (dt.date(2022, 7, 1), Decimal("71.2"))]
    assert not Indicator.objects.filter(external_id="1002-M").exists()


def test_minutes_seconds_decimals_are_decoded_to_seconds(long_imported):
    fires = Indicator.objects.get(external_id="1003")
    assert (fires.measurement_type, fires.unit, fires.target) == ("timespan", "seconds", Decimal(270))
    assert series("1003") == [(dt.date(2022, 7, 1), Decimal(266))]  # 4.26 = 4 min 26 s
    assert series("1003-M")[0] == (dt.date(2022, 7, 1), Decimal(267))


def test_geographic_breakouts_are_indicators_linked_to_their_parent(long_imported):
    bronx = Indicator.objects.get(external_id="1004")
    assert bronx.parent.external_id == "1001"
    assert bronx.name == "Refuse tons collected (000) — Bronx"
    manhattan = Indicator.objects.get(external_id="1002-b-manhattan")  # reuses its parent's id in the file
    assert manhattan.parent.external_id == "1002"
    assert series("1002-b-manhattan") == [(dt.date(2022, 7, 1), Decimal(74))]


def test_retired_indicators_are_kept_inactive(long_imported):
    retired = Indicator.objects.get(external_id="1005")
    assert not retired.active
    assert retired.target_kind == "up"
    assert series("1005") == [(dt.date(2021, 7, 1), Decimal(61230))]


def test_a_second_import_changes_nothing(long_imported):
    before = fingerprint()
    assert load(LONG_FILE).duplicate_of == long_imported.batch
    assert fingerprint() == before


def test_a_restated_month_keeps_its_old_value_in_the_history(long_imported):
    content = replace_cell(LONG_FILE.read_bytes(), 5, "acceptedvalue", "300")  # October 2021: was 260

    outcome = import_file(file_name="restated.csv", content=content)

    assert outcome.counts["measurements_restated"] == 1
    measurement = Measurement.objects.get(indicator__external_id="1001-M", period=dt.date(2021, 10, 1))
    assert measurement.value == 300
    (revision,) = measurement.revisions.all()
    assert (revision.old_value, revision.new_value, revision.batch) == (Decimal(260), Decimal(300), outcome.batch)
    assert any(w.line == 5 and w.column == "acceptedvalue" and "restated" in w.message for w in outcome.warnings)
    assert Indicator.objects.get(external_id="1001-M").data_changed_at >= outcome.batch.imported_at


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (3, "acceptedvalue", "abc", '"abc" is not a number'),
        (7, "acceptedvalueytd", "12..5", "is not a number"),
        (4, "valuedate", "2021-02-30T00:00:00.000", "is not a valid date"),
        (8, "frequency", "Fortnightly", "is not a frequency"),
        (9, "critical", "Maybe", "TRUE/FALSE"),
        (10, "desireddirection", "Left", "is not a direction"),
        (26, "targetmmr", "high", "is not a target"),
        (27, "id", "", "the indicator id is empty"),
        (11, "retired", "soon", "TRUE/FALSE"),
    ],
)
def test_broken_copies_report_line_and_column_and_write_nothing(line, column, value, message):
    before = fingerprint()

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="broken.csv", content=replace_cell(LONG_FILE.read_bytes(), line, column, value))

    assert rejected.value.errors, "a broken file must be refused"
    assert all(problem.line and problem.column for problem in rejected.value.errors)
    first = rejected.value.errors[0]
    assert (first.line, first.column) == (line, column)
    assert message in first.message
    assert fingerprint() == before


def test_a_row_given_twice_is_an_error_naming_both_lines():
    lines = LONG_FILE.read_bytes().splitlines(keepends=True)
    content = b"".join([*lines, lines[3]])

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="twice.csv", content=content)

    (problem,) = rejected.value.errors
    assert problem.line == len(lines) + 1 and "line 4" in problem.message
    assert Indicator.objects.count() == 0


HEADER = (
    "id,parentid,agency,agency_name,indicator,retired,desireddirection,frequency,critical,measurement_type,"
    "geotype,geovalue,valuedate,acceptedvalue,acceptedvalueytd,targetmmr\n"
)


def test_quarterly_rows_form_a_quarterly_series():
    content = HEADER + "".join(
        f"2001,,DOT,Department of Transportation,Potholes repaired,No,Up,Quarterly,No,Number,,,{day},{value},,*\n"
        for day, value in (("2022-09-01", 10), ("2022-12-01", 11), ("2023-03-01", 12), ("2023-06-01", 13))
    )

    import_file(file_name="q.csv", content=content.encode())

    assert Indicator.objects.get(external_id="2001-Q").frequency == "quarterly"
    assert [period for period, _ in series("2001-Q")] == [
        dt.date(2022, 7, 1), dt.date(2022, 10, 1), dt.date(2023, 1, 1), dt.date(2023, 4, 1),
    ]  # fmt: skip
    assert series("2001") == [(dt.date(2022, 7, 1), Decimal(13))]  # June: acceptedvalue when no year-to-date value


def test_hours_minutes_decimals_are_decoded_and_impossible_minutes_warned_about():
    row = "2002,,DHS,Department of Homeless Services,Average time to place (hours:minutes),No,Down,Annually,No,"
    content = HEADER + row + "TimeSpan,,,2022-06-01,,6.41,*\n" + row + "TimeSpan,,,2023-06-01,,6.75,*\n"

    outcome = import_file(file_name="hm.csv", content=content.encode())

    assert series("2002") == [
        (dt.date(2021, 7, 1), Decimal(6 * 3600 + 41 * 60)),
        (dt.date(2022, 7, 1), Decimal(6 * 3600 + 75 * 60)),
    ]
    (warning,) = outcome.warnings
    assert (warning.line, warning.column) == (3, "acceptedvalueytd") and "60 or more" in warning.message


def test_a_breakout_whose_parent_is_unknown_is_imported_unlinked_with_a_warning():
    content = (
        HEADER
        + "2003,9999,DOT,Department of Transportation,Potholes,No,Up,Annually,No,Number,B,Queens,2023-06-01,,5,*\n"
    )

    outcome = import_file(file_name="orphan.csv", content=content.encode())

    assert Indicator.objects.get(external_id="2003").parent is None
    assert any('"9999" is not known' in w.message and w.line == 2 for w in outcome.warnings)


def test_a_row_with_missing_or_extra_cells_names_the_column():
    rows = list(csv.reader(io.StringIO(LONG_FILE.read_text(), newline="")))
    rows[4] = rows[4][:-2]  # line 5 loses acceptedvalueytd and targetmmr
    rows[5] = [*rows[5], "extra"]
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="ragged.csv", content=out.getvalue().encode())

    assert [(p.line, p.column) for p in rejected.value.errors] == [(5, "acceptedvalueytd"), (6, "targetmmr")]
    assert "missing" in rejected.value.errors[0].message and "extra" in rejected.value.errors[1].message
