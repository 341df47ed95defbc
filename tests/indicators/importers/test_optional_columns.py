"""A column one NYC format makes optional is optional in the others: a file without it imports, an existing
indicator keeps what the file does not say, a new one gets the documented default (its direction from an
Up/Down target, else Neutral with a warning naming it)."""

import csv
import io
import re

import pytest

from indicators.models import Indicator
from indicators.services import import_file

from ..conftest import LONG_FILE, REAL_FILE

pytestmark = pytest.mark.django_db

FIRST_ROWS = b"".join(REAL_FILE.read_bytes().splitlines(keepends=True)[:6])  # five indicators
COMPTROLLER_OPTIONAL = ["Service", "Goal", "Desired.Direction", "Critical", "Target.MMR"]


def without(content: bytes, columns: list[str], **cells: tuple[int, str, str]) -> bytes:
    """A copy of a CSV without ``columns``; ``cells`` first sets (line, column, value) cells."""
    rows = list(csv.reader(io.StringIO(content.decode(), newline="")))
    for line, column, value in cells.values():
        rows[line - 1][rows[0].index(column)] = value
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([[row[i] for i in keep] for row in rows])
    return out.getvalue().encode()


def attributes(*names: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in Indicator.objects.values_list("external_id", *names)}


def test_a_comptroller_file_without_its_optional_columns_leaves_existing_indicators_as_they_are():
    import_file(file_name="full.csv", content=FIRST_ROWS)
    fields = ("service", "goal", "desired_direction", "critical", "target", "target_kind")
    before = attributes(*fields)
    assert {row[2] for row in before.values()} - {"neutral"}  # directions to keep

    outcome = import_file(file_name="bare.csv", content=without(FIRST_ROWS, COMPTROLLER_OPTIONAL))

    assert attributes(*fields) == before
    assert outcome.counts["indicators_updated"] == 0 and outcome.warnings == []


def test_new_comptroller_indicators_get_the_defaults_and_a_warning_for_each_direction_not_known():
    content = without(FIRST_ROWS, ["Service", "Goal", "Desired.Direction", "Critical"], up=(3, "Target.MMR", "Up"))

    outcome = import_file(file_name="bare.csv", content=content)

    ids = [row[0] for row in csv.reader(io.StringIO(FIRST_ROWS.decode()))][1:]
    assert attributes("desired_direction", "critical", "service", "goal")[ids[1]] == ("up", False, "", "")
    assert {attributes("desired_direction")[ids[n]] for n in (0, 2, 3, 4)} == {("neutral",)}
    warned = [w for w in outcome.warnings if "desired direction" in w.message]
    assert [w.line for w in warned] == [2, 4, 5, 6]
    assert "no Desired.Direction column" in warned[0].message


def test_an_open_data_table_without_directions_takes_them_from_up_down_targets():
    content = without(LONG_FILE.read_bytes(), ["desireddirection"])
    content = content.replace(b",4:30\n", b",Down\n")  # 1003's target on every row

    outcome = import_file(file_name="long.csv", content=content)

    directions = attributes("desired_direction")
    assert directions["1003"] == directions["1003-M"] == directions["1003-4M"] == ("down",)
    assert directions["1005"] == ("up",)  # targetmmr "Up"
    assert directions["1001"] == directions["1001-M"] == directions["1001-4M"] == ("neutral",)
    warned = [w for w in outcome.warnings if "desired direction" in w.message]
    # One warning per indicator left Neutral, on its first row; none for its monthly and 4-month series.
    assert [(w.line, re.search(r"\(Indicators, ([^)]+)\)", w.message)[1]) for w in warned] == [
        (2, "1001"),
        (26, "1002"),
        (29, "1002-b-manhattan"),
        (42, "1004"),
    ]
    assert all("no desireddirection column" in w.message for w in warned)


def test_an_open_data_table_without_directions_keeps_the_stored_ones():
    import_file(file_name="long.csv", content=LONG_FILE.read_bytes())
    before = attributes("desired_direction", "critical", "target_kind", "service")

    outcome = import_file(
        file_name="bare.csv",
        content=without(LONG_FILE.read_bytes(), ["desireddirection", "critical", "targetmmr", "service"]),
    )

    assert attributes("desired_direction", "critical", "target_kind", "service") == before
    assert outcome.counts["indicators_updated"] == 0
    assert not [w for w in outcome.warnings if "desired direction" in w.message]
