"""The NYC Comptroller's tidy indicator file: one row per indicator, fiscal-year values in columns named by
year (``2016 … 2023``). In the shipped file the last year is the PMMR's 4-month value projected to a full year,
so the last year column is marked preliminary.

Required: ``ID``, ``Agency.Full.Name.y``, ``Indicator`` and year columns. The others are optional, as in the
other NYC formats: a column the file lacks leaves an existing indicator's attribute as it is, and a new one gets
the default (no service or goal, not critical, no target, the direction of an ``Up``/``Down`` target else Neutral
with a warning)."""

import re

from .base import (
    NO_AGENCY,
    IndicatorRecord,
    MeasurementRecord,
    Record,
    Report,
    Rows,
    TextError,
    column_index,
    direction_from_targets,
    fiscal_year_value,
    infer_measurement_type,
    named_agency,
    read_cells,
    read_target,
    text,
    unstated,
    width_problem,
)
from .values import parse_bool, parse_direction

NAME = "comptroller"
LABEL = "NYC Comptroller tidy file: ID, Agency.Full.Name.y, Indicator, …, 2016 … 2023"
REQUIRED = ("ID", "Agency.Full.Name.y", "Indicator")
# Each optional column and the indicator's attributes it gives (left unstated when the file lacks it).
OPTIONAL = {
    "Service": ("service",),
    "Goal": ("goal",),
    "Desired.Direction": ("desired_direction",),
    "Critical": ("critical",),
    "Target.MMR": ("target", "target_kind"),
}
NEVER_STATED = frozenset({"description"})
_YEAR = re.compile(r"^(19|20)\d\d$")
_TEXT = (("Indicator", "name", 500), ("Service", "service", 500), ("Goal", "goal", 500))


def matches(header: list[str]) -> bool:
    return "Agency.Full.Name.y" in header and "Indicator" in header


def parse(header: list[str], rows: Rows, report: Report):
    index = column_index(header, REQUIRED, report)
    years = [name for name in header if _YEAR.match(name)]
    if not years:
        report.error(1, None, "no fiscal-year value columns (named like 2016, 2017, …)")
    if index is None or not years:
        return
    last_year = max(years)
    not_stated = NEVER_STATED | unstated(OPTIONAL, index)
    named = {name: index[name] for name in (*REQUIRED, "Agency.Number", *OPTIONAL, *years) if name in index}
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            report.error(line, *width_problem(header, cells))
            continue
        cell = {name: cells[i].strip() for name, i in named.items()}
        yield from _row(line, cell, years, last_year, seen, not_stated, report)


def _row(
    line: int, cell: dict, years: list[str], last_year: str, seen: dict, not_stated: frozenset[str], report: Report
) -> list[Record]:
    """The indicator and values of one row, or nothing when the row has an error (every error reported)."""
    external_id = _external_id(line, cell, seen, report)
    if external_id is None:
        return []
    errors_before = report.error_count
    record = _indicator(line, cell, external_id, report)
    record.unstated = not_stated
    measurements = _measurements(line, cell, external_id, years, last_year, report)
    if report.error_count > errors_before:
        return []
    return [record, *measurements]


def _external_id(line: int, cell: dict, seen: dict, report: Report) -> str | None:
    """The row's indicator ID (the MMR's), or None when it is unusable or repeats an earlier row's (reported)."""
    external_id = cell["ID"]
    if not external_id or len(external_id) > 64:
        report.error(line, "ID", "the indicator ID is empty" if not external_id else "the indicator ID is too long")
        return None
    if external_id in seen:
        report.error(line, "ID", f'indicator ID "{external_id}" already appears on line {seen[external_id]}')
        return None
    seen[external_id] = line
    return external_id


def _indicator(line: int, cell: dict, external_id: str, report: Report) -> IndicatorRecord:
    """The indicator a row describes; its unreadable cells are reported and left at their defaults."""
    record = IndicatorRecord(
        external_id=external_id,
        name="",
        agency_name=named_agency(cell["Agency.Full.Name.y"]),
        agency_number=cell.get("Agency.Number", "").replace("NA", "")[:16],
        line=line,
    )
    for column, attribute, limit in _TEXT:
        try:
            setattr(record, attribute, text(cell.get(column, ""), limit))
        except TextError as error:
            report.error(line, column, f"the text {error}")
    if not record.name:
        report.error(line, "Indicator", "the indicator name is empty")
    if len(record.agency_name) > 200 or "\x00" in record.agency_name:
        report.error(line, "Agency.Full.Name.y", "the agency name is not usable (too long or binary)")
    record.measurement_type, record.unit = infer_measurement_type(record.name)
    read_cells(
        record,
        line,
        report,
        [
            (column, attribute, cell[column], parser)
            for column, attribute, parser in (
                ("Desired.Direction", "desired_direction", parse_direction),
                ("Critical", "critical", parse_bool),
            )
            if column in cell
        ],
    )
    if "Target.MMR" in cell:
        read_target(record, line, "Target.MMR", cell["Target.MMR"], report)
    if "Desired.Direction" not in cell:
        direction_from_targets(record, "Desired.Direction", [cell.get("Target.MMR", "")])
    if not record.agency_name:
        report.warn(line, "Agency.Full.Name.y", NO_AGENCY)
    return record


def _measurements(
    line: int, cell: dict, external_id: str, years: list[str], last_year: str, report: Report
) -> list[MeasurementRecord]:
    """The row's fiscal-year values; the last year is the PMMR's projection, so it is preliminary."""
    values = (
        fiscal_year_value(
            external_id, int(year), cell[year], line=line, column=year, preliminary=year == last_year, report=report
        )
        for year in years
    )
    return [value for value in values if value is not None]
