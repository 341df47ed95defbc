"""What every format's parser produces: indicator and measurement records, plus the import's ``Report`` of
row-level errors and warnings. Parsers read text and never touch the database; they *yield* records so that a
large file streams through ``indicators.services.import_file`` in batches instead of sitting in memory."""

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..models import Direction
from .values import CellError, parse_number, parse_target, timespan_warning

# Long enough for every real report, short enough that a file with an error on each of 770,000 rows does not
# build a 300 MB report: past this many, problems are counted and summarised instead of listed.
MAX_LISTED = 1000


@dataclass(frozen=True)
class Problem:
    """An error or warning about one place in the file. ``line`` counts the header as line 1."""

    line: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (f"line {self.line}" if self.line else "", f"column {self.column}" if self.column else "")
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class FileRejected(Exception):
    """The file as a whole cannot be read (empty, binary, wrong encoding, too large, unknown format)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        # The problem carries the line itself; keep "line 3: " out of its message so it is not said twice.
        self.problem = Problem(line, None, re.sub(r"^line \d+(?:: |, )", "", message) if line else message)


@dataclass
class IndicatorRecord:
    external_id: str
    name: str
    agency_name: str  # empty: no agency given
    line: int
    agency_code: str = ""
    agency_number: str = ""
    service: str = ""
    goal: str = ""
    description: str = ""
    desired_direction: str = "neutral"
    critical: bool = False
    target: Decimal | None = None
    target_kind: str = "none"
    measurement_type: str = "number"
    unit: str = ""
    frequency: str = "annual"
    active: bool = True
    parent_external_id: str = ""
    # Attributes the file has no column for. An indicator that exists keeps its own; a new one gets the values
    # above (the format's defaults, indicators/importers/README.md), a new companion series its indicator's.
    unstated: frozenset[str] = frozenset()
    companion_of: str = ""  # for a companion series (-4M, -M, -Q): the external id of its indicator
    warning_if_new: str = ""  # reported only if the import creates the indicator: a parser cannot know
    # False when the file carries no indicator ID and ``external_id`` was derived (MMR wide extracts): the
    # import then looks the indicator up by agency and name among the existing ones.
    id_from_source: bool = True


@dataclass(slots=True)
class MeasurementRecord:
    """One value. ``period`` is a date inside the period; the writer snaps it to the start of the indicator's
    period (month, fiscal quarter or fiscal year). ``percent`` says the cell carried a ``%`` sign."""

    external_id: str
    period: dt.date
    value: Decimal
    line: int
    column: str
    preliminary: bool = False
    percent: bool = False
    whole_year: bool = False  # the file named a fiscal year (generic format: "FY2023")


Record = IndicatorRecord | MeasurementRecord
Rows = Iterator[tuple[int, list[str]]]


@dataclass
class Report:
    """Errors and warnings of one import, and the number of data rows read. Only the first ``MAX_LISTED`` of
    each are kept; ``summary`` accounts for the rest."""

    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors_not_listed: int = 0
    warnings_not_listed: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def error_count(self) -> int:
        """Every error so far, listed or only counted: a parser compares it before and after a row to know
        whether the row had errors."""
        return len(self.errors) + self.errors_not_listed

    def error(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(line, column, message))
        else:
            self.errors_not_listed += 1

    def warn(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(Problem(line, column, message))
        else:
            self.warnings_not_listed += 1

    def listed_errors(self) -> list[Problem]:
        extra = [Problem(None, None, f"… and {self.errors_not_listed} more errors")] if self.errors_not_listed else []
        return sorted(self.errors, key=_by_line) + extra

    def listed_warnings(self) -> list[Problem]:
        extra = (
            [Problem(None, None, f"… and {self.warnings_not_listed} more warnings")] if self.warnings_not_listed else []
        )
        return sorted(self.warnings, key=_by_line) + extra


def _by_line(problem: Problem) -> int:
    # Rows are checked when read and again when written (against stored data): report them in file order.
    return problem.line or 0


NO_AGENCY = "no agency given; the indicator goes to UNASSIGNED"


def named_agency(raw: str) -> str:
    """The agency a cell names, or "" when it names none: New York's files write a missing agency as NA."""
    return "" if raw.upper() in ("", "NA") else raw


def fiscal_year_start(year: int) -> dt.date:
    """New York City's fiscal year N runs from 1 July of N−1 to 30 June of N; a period is its start date."""
    return dt.date(year - 1, 7, 1)


def infer_measurement_type(name: str) -> tuple[str, str]:
    """(measurement type, unit) from an MMR indicator name such as "Calls answered in 30 seconds (%)"."""
    lowered = name.lower()
    if "minutes:seconds" in lowered or "hours:minutes" in lowered:
        return "timespan", "seconds"
    if "%" in name:
        return "percentage", "%"
    if "$" in name:
        return "currency", "$"
    return "number", ""


class TextError(ValueError):
    """A text cell the database cannot keep (too long, or holding a NUL byte)."""


def text(raw: str, limit: int) -> str:
    """A stripped text cell, refused when longer than the column it goes to or when it holds a NUL byte
    (PostgreSQL rejects NUL in text; such a byte means binary junk inside the file)."""
    value = (raw or "").strip()
    if "\x00" in value:
        raise TextError("holds a NUL byte (binary data)")
    if len(value) > limit:
        raise TextError(f"is {len(value)} characters long; at most {limit} are kept")
    return value


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(value: str) -> str:
    """Lower-case words joined by hyphens; ``%`` is kept as ``pct`` so that "Cases (%)" ≠ "Cases"."""
    return _SLUG.sub("-", value.lower().replace("%", " pct ").replace("$", " usd ")).strip("-")


def column_index(header: list[str], required: tuple[str, ...], report: Report, key=lambda name: name) -> dict | None:
    """Position of each column by ``key(name)``; reports missing required and duplicated columns (on line 1)
    and returns None when there are any. Linear in the number of columns: files come with tens of thousands
    (looking each name up among all the others made a 20,000-column header take 18 s)."""
    keys = [key(name) for name in header]
    times = Counter(keys)
    missing = [name for name in required if name not in times]
    duplicates = sorted({header[i] for i, k in enumerate(keys) if k and times[k] > 1})
    if missing:
        report.error(1, listed(missing), f"missing column(s): {listed(missing)}")
    if duplicates:
        report.error(1, listed(duplicates), f"duplicate column(s): {listed(duplicates)}")
    if missing or duplicates:
        return None
    return {k: i for i, k in enumerate(keys) if k}


def unstated(optional: dict[str, tuple[str, ...]], present) -> frozenset[str]:
    """The attributes of ``optional`` (column → the attributes it gives) whose column is not ``present``."""
    return frozenset(
        attribute for column, attributes in optional.items() if column not in present for attribute in attributes
    )


def listed(names: list[str], limit: int = 20) -> str:
    """Column names for a message: all of them, or the first ``limit`` and how many more (a header of 50,000
    repeated names must not make a 50,000-name message)."""
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit:,} more" if len(names) > limit else shown


def direction_from_targets(record: IndicatorRecord, column: str, targets: list[str]) -> None:
    """For a file without a direction column (``column``, as the format names it): the record's direction is
    that of the first ``Up`` or ``Down`` among its targets' cells (latest year first), else Neutral — with a
    warning should the import create the indicator, as when its targets disagree. (An indicator that exists keeps
    its own direction: the format lists ``desired_direction`` as unstated.)"""
    agency = f" of {record.agency_name}" if record.agency_name else ""
    stated = [d for d in (raw.strip().lower() for raw in targets) if d in (Direction.UP, Direction.DOWN)]
    if stated:
        record.desired_direction = latest = stated[0]
        if any(direction != latest for direction in stated):
            record.warning_if_new = (
                f'"{record.name}"{agency} gets the desired direction {latest.title()} from its latest target, but an '
                f"earlier target of the file says {'Down' if latest == Direction.UP else 'Up'}. Check its direction "
                f"on the indicator's admin page (Indicators, {record.external_id})."
            )
        return
    record.desired_direction = Direction.NEUTRAL
    record.warning_if_new = (
        f'"{record.name}"{agency} gets the desired direction Neutral: the file has no {column} column and no '
        f"Up or Down target for it. Set its direction on the indicator's admin page (Indicators, "
        f"{record.external_id}), or import a file with a {column} column (Up, Down or Neutral)."
    )


def width_problem(header: list[str], cells: list[str]) -> tuple[str, str]:
    """(column, message) for a row with more or fewer cells than the header: the first column without a cell,
    or the last column when there are cells beyond it."""
    if len(cells) < len(header):
        return header[len(cells)], f"has {len(cells)} cells where the header has {len(header)}: this cell is missing"
    return header[-1], f"has {len(cells)} cells where the header has {len(header)}: extra cells after this column"


def read_cells(record: IndicatorRecord, line: int, report: Report, cells) -> None:
    """Set attributes of ``record`` from cells, ``cells`` being (column, attribute, raw cell, parser). A cell that
    cannot be read is reported at its column and leaves its attribute as it was; the others are still read, so
    that one pass over a row lists all of its problems."""
    for column, attribute, raw, parser in cells:
        try:
            setattr(record, attribute, parser(raw))
        except CellError as error:
            report.error(line, column, str(error))


def read_target(record: IndicatorRecord, line: int, column: str, raw: str, report: Report) -> None:
    """Set the indicator's target and target kind from its cell; a cell that cannot be read is reported."""
    try:
        record.target, record.target_kind = parse_target(raw)
    except CellError as error:
        report.error(line, column, str(error))


def read_value(raw: str, line: int, column: str, report: Report) -> tuple[Decimal, str] | None:
    """A value cell → (value, kind) as ``parse_number`` reads it, or None when it is empty (NA) or cannot be read
    (reported). A time span with a field of 60 or more is kept, with a warning: it is most often a typing error."""
    try:
        value, kind = parse_number(raw)
    except CellError as error:
        report.error(line, column, str(error))
        return None
    if kind == "timespan" and (warning := timespan_warning(raw)):
        report.warn(line, column, warning)
    return None if value is None else (value, kind)


def fiscal_year_value(
    external_id: str, year: int, raw: str, *, line: int, column: str, preliminary: bool, report: Report
) -> MeasurementRecord | None:
    """The value a wide file's cell gives for fiscal year ``year``, or None (empty, or unreadable and reported)."""
    read = read_value(raw, line, column, report)
    if read is None:
        return None
    value, kind = read
    return MeasurementRecord(
        external_id=external_id,
        period=fiscal_year_start(year),
        value=value,
        line=line,
        column=column,
        preliminary=preliminary,
        percent=kind == "percent",
    )
