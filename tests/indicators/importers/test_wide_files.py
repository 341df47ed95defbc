"""Files with 50,000 columns import correctly in every CSV format (their speed is benchmarks/bench_import.py's
``--wide-columns`` figure, not asserted here): an MMR extract of two centuries of years with 4-month values and
targets, and each format's own file widened with columns no format reads, which must import exactly as the
narrow file does."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from indicators.models import Indicator, Measurement
from indicators.services import ImportRejected, import_file

from ..conftest import FY16_SAMPLE, GENERIC_CSV, LONG_FILE, REAL_FILE

pytestmark = pytest.mark.django_db

COLUMNS = 50_000
YEARS = range(1901, 2101)


def widened(content: bytes, columns: int = COLUMNS) -> bytes:
    """A copy of a CSV with columns ``note_1`` … added until it has ``columns``, each cell holding text."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    extra = columns - len(rows[0])
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0] + [f"note_{n}" for n in range(1, extra + 1)])
    writer.writerows(row + [f"n{n % 10}" for n in range(extra)] for row in rows[1:])
    return out.getvalue().encode()


def stored() -> list[tuple]:
    return sorted(
        Measurement.objects.values_list("indicator__external_id", "period", "value", "preliminary").order_by()
    )


def test_a_50000_column_mmr_extract_imports_every_value():
    header = ["agency", "mmr_goal", "critical", "performance_indicator", "desired_direction"]
    header += [f"fy{year}" for year in YEARS] + [f"fy{year}_4_month_actual" for year in YEARS]
    header += [f"tgt{year}" for year in YEARS]
    header += [f"note_{n}" for n in range(COLUMNS - len(header))]
    assert len(header) == COLUMNS
    rows = [
        ["DSNY", "1a", "TRUE", f"Wide indicator {row}", "Up"]
        + [str(row * 1000 + year - 1900) for year in YEARS]
        + [str(row * 100 + year - 1900) for year in YEARS]
        + [str(year - 1900) for year in YEARS]
        + ["x"] * (COLUMNS - 5 - 3 * len(YEARS))
        for row in range(1, 4)
    ]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])

    outcome = import_file(file_name="wide.csv", content=out.getvalue().encode())

    assert outcome.format == "mmr_wide" and outcome.rows == 3 and outcome.warnings == []
    assert outcome.counts["indicators_created"] == 6 and outcome.counts["measurements_created"] == 3 * 400
    second = Indicator.objects.get(name="Wide indicator 2")
    assert (second.desired_direction, second.critical, second.target) == ("up", True, Decimal(200))  # tgt2100
    values = dict(second.measurements.values_list("period", "value"))
    assert len(values) == 200
    assert values[dt.date(1900, 7, 1)] == 2001 and values[dt.date(2099, 7, 1)] == 2200
    four_month = Indicator.objects.get(external_id=second.external_id + "-4M")
    assert four_month.measurements.get(period=dt.date(2015, 7, 1)).value == 316


@pytest.mark.parametrize(
    ("narrow", "before"),
    [(REAL_FILE, None), (FY16_SAMPLE, None), (LONG_FILE, None), (GENERIC_CSV, LONG_FILE)],
    ids=["comptroller", "mmr_wide", "open_data_long", "generic"],
)
def test_columns_no_format_reads_change_nothing_however_many(narrow, before):
    content = b"".join(narrow.read_bytes().splitlines(keepends=True)[:40])
    if before:
        import_file(file_name=before.name, content=before.read_bytes())
    expected = import_file(file_name="narrow.csv", content=content, dry_run=True)
    with_narrow = stored()

    outcome = import_file(file_name="wide.csv", content=widened(content))

    assert (outcome.format, outcome.rows, outcome.counts) == (expected.format, expected.rows, expected.counts)
    assert outcome.warnings == expected.warnings
    import_file(file_name="narrow.csv", content=content)  # the same values: all unchanged
    assert len(stored()) - len(with_narrow) == outcome.counts["measurements_created"]


def test_50000_repeated_column_names_are_refused_with_a_short_message():
    header = "agency,performance_indicator,fy16," + ",".join(f"note_{n % 25_000}" for n in range(COLUMNS - 3))

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="twice.csv", content=f"{header}\nDSNY,Tons,1{',x' * (COLUMNS - 3)}\n".encode())

    (problem,) = rejected.value.errors
    assert problem.line == 1 and problem.message.startswith("duplicate column(s): note_0, note_1, note_10,")
    assert problem.message.endswith("and 24,977 more") and len(str(problem)) < 700  # note_0 … note_24996
