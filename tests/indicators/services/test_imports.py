"""``import_file``: all or nothing, file-level refusals, dry runs, progress, warnings, restatements."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from indicators.models import Agency, ImportBatch, Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import FY16_SAMPLE, LONG_FILE, REAL_FILE, fingerprint, load, replace_cell

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("agency,performance_indicator,fy16\nDSNY,Tonnage,1\n".encode("utf-16"), "UTF-16"),
        ("agency,performance_indicator,fy16\nDSNY,Tonnage,1\n".encode("utf-16-le"), "binary data"),
        ("ID,Agency.Full.Name.y,Indicator\n1,Département,Tonnes\n".encode("latin-1"), "not UTF-8"),
        (b"name,colour\nsky,blue\n", "accepted formats: comptroller"),
        (b'"unterminated\n', "accepted formats"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(content, message):
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="bad", content=content)

    assert message in str(rejected.value.errors[0])
    assert ImportBatch.objects.count() == 0


def test_binary_junk_in_the_middle_of_a_file_is_refused_with_its_line():
    content = FY16_SAMPLE.read_bytes().replace(b"311 calls", b"311 \x00\xff calls")

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="junk.csv", content=content)

    assert rejected.value.errors[0].line == 2 and "binary" in rejected.value.errors[0].message


def test_files_over_the_size_limit_are_refused(settings):
    settings.PERCOLATE_IMPORT_MAX_BYTES = 1000

    with pytest.raises(ImportRejected) as rejected:
        load(FY16_SAMPLE)

    assert "PERCOLATE_IMPORT_MAX_BYTES" in rejected.value.errors[0].message
    assert Indicator.objects.count() == 0


def test_an_unknown_format_name_lists_the_accepted_ones():
    with pytest.raises(ImportRejected) as rejected:
        load(FY16_SAMPLE, format="excel")

    message = rejected.value.errors[0].message
    assert all(name in message for name in ("comptroller", "mmr_wide", "open_data_long", "generic", "generic_json"))


def test_a_format_that_does_not_fit_the_file_reports_its_missing_columns():
    with pytest.raises(ImportRejected) as rejected:
        load(FY16_SAMPLE, format="comptroller")

    assert rejected.value.errors[0].line == 1 and "missing column" in rejected.value.errors[0].message


def test_errors_and_warnings_come_as_dicts_for_the_api_and_the_page():
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="b.csv", content=replace_cell(FY16_SAMPLE.read_bytes(), 4, "fy15", "x"))

    assert rejected.value.as_dict()["errors"] == [{"line": 4, "column": "fy15", "message": '"x" is not a number'}]
    outcome = load(REAL_FILE)
    report = outcome.as_dict()
    assert report["batch"] == outcome.batch.pk and report["format"] == "comptroller" and report["rows"] == 1139
    assert report["counts"]["indicators_created"] == 1139
    assert {"line", "column", "message"} == set(report["warnings"][0])


def test_an_uploaded_file_object_is_streamed_like_bytes():
    outcome = import_file(file_name=FY16_SAMPLE.name, content=io.BytesIO(FY16_SAMPLE.read_bytes()))
    assert outcome.counts["indicators_created"] == 10


def test_a_dry_run_reports_exact_counts_and_writes_nothing():
    before = fingerprint()

    outcome = load(REAL_FILE, dry_run=True)

    assert outcome.batch is None and outcome.dry_run
    assert outcome.counts["indicators_created"] == 1139
    assert fingerprint() == before
    assert load(REAL_FILE).duplicate_of is None  # the dry run left no batch behind


def test_progress_is_reported_up_to_the_total():
    calls = []

    load(LONG_FILE, progress=lambda done, total: calls.append((done, total)))

    assert calls[-1] == (44, 44)
    assert all(done <= total for done, total in calls)


def test_a_restated_value_keeps_its_history_and_marks_the_indicator(django_user_model):
    user = django_user_model.objects.create(username="analyst")
    load(FY16_SAMPLE)
    Indicator.objects.update(data_changed_at=None)

    content = replace_cell(FY16_SAMPLE.read_bytes(), 3, "fy15", "9,700")
    outcome = import_file(file_name="restated.csv", content=content, user=user)

    measurement = Measurement.objects.get(
        indicator__external_id="MMR-311-311-online-site-visits-000", period=dt.date(2014, 7, 1)
    )
    assert measurement.value == 9700
    (revision,) = measurement.revisions.all()
    assert (revision.old_value, revision.new_value, revision.changed_by, revision.batch) == (
        Decimal(9656), Decimal(9700), user, outcome.batch,
    )  # fmt: skip
    (warning,) = outcome.warnings
    assert (warning.line, warning.column) == (3, "fy15") and "was 9656, now 9700" in warning.message
    changed = Indicator.objects.filter(data_changed_at__isnull=False).values_list("external_id", flat=True)
    assert list(changed) == ["MMR-311-311-online-site-visits-000"]
    assert outcome.counts["measurements_restated"] == 1 and outcome.counts["measurements_unchanged"] == 44


def test_an_unknown_agency_is_created_without_a_portfolio_with_a_warning():
    content = FY16_SAMPLE.read_bytes().replace(b"\n3-1-1,1a,FALSE,Call takers", b"\nDOGS,1a,FALSE,Call takers")

    outcome = import_file(file_name="dogs.csv", content=content)

    agency = Agency.objects.get(code="DOGS")
    assert agency.portfolio is None
    (warning,) = outcome.warnings
    assert warning.message.startswith('agency "DOGS" was not known; created without a portfolio (near matches: ')
    assert warning.line == 9


def test_suspicious_values_are_warned_about_but_imported():
    content = FY16_SAMPLE.read_bytes()
    content = replace_cell(content, 7, "fy16", "0:75")  # seconds ≥ 60
    content = replace_cell(content, 8, "fy16", "189%")  # a percentage over 100
    content = replace_cell(content, 2, "fy16", "288,000")  # over 10× the series' history (18,957 … 21,346)

    outcome = import_file(file_name="odd.csv", content=content)

    messages = {(w.line, w.column): w.message for w in outcome.warnings}
    assert "60 or more" in messages[(7, "fy16")]
    assert "over 100 for a percentage" in messages[(8, "fy16")]
    assert "more than 10×" in messages[(2, "fy16")]
    assert outcome.counts["measurements_created"] == 45


def test_a_value_jump_against_stored_history_is_warned_about():
    load(FY16_SAMPLE)
    content = b"indicator,period,value\nMMR-311-311-calls-000,FY2017,1.9\n"

    outcome = import_file(file_name="g.csv", content=content)

    assert "more than 10×" in outcome.warnings[0].message


@pytest.mark.parametrize("content", [b"indicator,period,value\n", b"[ ]", FY16_SAMPLE.read_bytes().splitlines()[0]])
def test_a_file_with_a_header_but_no_rows_is_refused(content):
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="header-only", content=content)

    assert rejected.value.errors[0].message == "the file has no data rows"
    assert ImportBatch.objects.count() == 0


def test_a_changed_target_updates_the_indicator_and_marks_it_for_the_next_check():
    load(FY16_SAMPLE)
    Indicator.objects.update(data_changed_at=None)

    outcome = import_file(file_name="t.csv", content=replace_cell(FY16_SAMPLE.read_bytes(), 8, "tgt16", "85%"))

    assert outcome.counts["indicators_updated"] == 1 and outcome.counts["measurements_unchanged"] == 45
    answered = Indicator.objects.get(name="Calls answered in 30 seconds (%)")
    assert answered.target == 85 and answered.data_changed_at is not None
    assert Indicator.objects.filter(data_changed_at__isnull=False).count() == 1


def test_an_identical_file_returns_zero_counts_and_the_first_batch():
    first = load(FY16_SAMPLE)

    again = load(FY16_SAMPLE)

    assert again.duplicate_of == again.batch == first.batch
    assert set(again.counts.values()) == {0} and again.as_dict()["duplicate_of"] == first.batch.pk
