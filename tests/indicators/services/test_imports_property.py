"""Property: whatever is done to a valid file (columns dropped or duplicated, cells replaced, random bytes
inserted, truncation), importing it either succeeds completely or writes nothing and returns errors — it never
raises anything else. Examples are few and small so the suite stays fast."""

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.models import Measurement, MeasurementRevision
from indicators.services import ImportRejected, import_file

from ..conftest import FY16_SAMPLE, GENERIC_CSV, GENERIC_JSON, LONG_FILE, REAL_FILE, fingerprint, load

pytestmark = pytest.mark.django_db

SEEDS = {
    "comptroller": b"".join(REAL_FILE.read_bytes().splitlines(keepends=True)[:25]),
    "mmr_wide": FY16_SAMPLE.read_bytes(),
    "open_data_long": LONG_FILE.read_bytes(),
    "generic": GENERIC_CSV.read_bytes(),
    "generic_json": GENERIC_JSON.read_bytes(),
}
CELLS = st.one_of(
    st.sampled_from(["", "NA", "-", "1,234", "83%", "0:75", "1:02:03", "abc", "1e99", "Up", "?", "*", "TRUE", "FY23"]),
    st.sampled_from(["2021-06-01T00:00:00.000", "2021-10-01", "1001", "1001-M", "Monthly", "Annually", "Yes"]),
    st.text(max_size=12),
)


def _rows(content: bytes) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def mutation(draw, content: bytes) -> bytes:
    kind = draw(st.sampled_from(["drop_column", "duplicate_column", "cell", "bytes", "truncate"]))
    rows = _rows(content)
    if kind in ("drop_column", "duplicate_column", "cell") and rows and rows[0]:
        width = len(rows[0])
        column = draw(st.integers(0, width - 1))
        if kind == "drop_column":
            return _csv([row[:column] + row[column + 1 :] for row in rows])
        if kind == "duplicate_column":
            return _csv([row[: column + 1] + row[column:] for row in rows])
        line = draw(st.integers(0, len(rows) - 1))
        if column < len(rows[line]):
            rows[line][column] = draw(CELLS)
        return _csv(rows)
    position = draw(st.integers(0, len(content)))
    if kind == "truncate":
        return content[:position]
    return content[:position] + draw(st.binary(min_size=1, max_size=6)) + content[position:]


@st.composite
def mutated_file(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    content = SEEDS[name]
    for _ in range(draw(st.integers(1, 3))):
        content = draw(mutation(content))
    return name, content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated_file())
def test_a_mutated_file_imports_completely_or_writes_nothing(long_imported, case):
    name, content = case
    with transaction.atomic():
        before = fingerprint()
        try:
            outcome = import_file(file_name=f"mutated-{name}.csv", content=content)
        except ImportRejected as rejected:
            assert rejected.errors, "a refusal always says why"  # noqa: PT017 (rejected or imported: both are checked)
            assert all(problem.message for problem in rejected.errors)  # noqa: PT017
            assert fingerprint() == before
        else:
            if outcome.duplicate_of is None:
                counts = outcome.counts
                assert Measurement.objects.count() == before[2] + counts["measurements_created"]
                assert MeasurementRevision.objects.count() == before[3] + counts["measurements_restated"]
                assert outcome.batch.rows_read == outcome.rows
            else:
                assert fingerprint() == before
        transaction.set_rollback(True)  # every example starts from the same database


def test_the_seeds_themselves_import(long_imported):
    for name, content in SEEDS.items():
        outcome = import_file(file_name=f"seed-{name}.csv", content=content)
        assert outcome.batch is not None, name
    assert load(FY16_SAMPLE).duplicate_of is not None
