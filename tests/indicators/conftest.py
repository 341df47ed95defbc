"""Helpers for the import tests: the shipped and hand-made files, a fingerprint of everything an import can write
(to assert that a rejected file wrote nothing), and the series columns an import should keep."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings

from indicators.models import Agency, ImportBatch, Indicator, Measurement, MeasurementRevision
from indicators.services import import_file

SHIPPED = Path(settings.BASE_DIR) / "indicators" / "data"
REAL_FILE = SHIPPED / "nyc-pmmr-fy2023-indicators.csv"
FY16_SAMPLE = SHIPPED / "nyc-mmr-fy16-sample.csv"
DATA = Path(__file__).parent / "data"
LONG_FILE = DATA / "open-data-long.csv"
GENERIC_CSV = DATA / "generic-long.csv"
GENERIC_JSON = DATA / "generic.json"


def fingerprint() -> tuple:
    """Row counts and the latest update of every table an import writes."""
    return (
        Agency.objects.count(),
        Indicator.objects.count(),
        Measurement.objects.count(),
        MeasurementRevision.objects.count(),
        ImportBatch.objects.count(),
        tuple(Measurement.objects.order_by("id").values_list("value", flat=True)),
        tuple(Indicator.objects.order_by("id").values_list("name", "target", "data_changed_at")),
    )


def nothing_changed(values: int) -> dict[str, int]:
    """An import's counts when the file held only what was stored already: ``values`` values unchanged."""
    return {
        "indicators_created": 0,
        "indicators_updated": 0,
        "indicators_extended": 0,
        "measurements_created": 0,
        "measurements_restated": 0,
        "measurements_unchanged": values,
    }


def series_columns(periods: list[dt.date], step: int) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    """What ``indicator_series_refresh`` should find, from the periods alone: (first, latest, the first period of
    the latest run in which every value is exactly ``step`` months after the one before it)."""
    ordered = sorted(periods)
    if not ordered:
        return None, None, None
    months = [p.year * 12 + p.month for p in ordered]
    breaks = [p for k, p in enumerate(ordered) if k == 0 or months[k] - months[k - 1] != step]
    return ordered[0], ordered[-1], breaks[-1]


def load(path: Path, **options):
    return import_file(file_name=path.name, content=path.read_bytes(), **options)


def replace_cell(content: bytes, line: int, column: str, value: str) -> bytes:
    """A copy of a CSV with one cell replaced (``line`` counts the header as 1)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def long_imported(db):
    """The hand-made NYC Open Data long file, imported."""
    return load(LONG_FILE)
