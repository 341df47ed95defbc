"""The NYC Comptroller's tidy indicator file: one row per indicator, fiscal-year values in columns named by
year (``2016 … 2023``). In the shipped file the last year is the PMMR's 4-month value projected to a full year,
so the last year column is marked preliminary."""

import re

from .base import (
    IndicatorRecord,
    MeasurementRecord,
    Record,
    Report,
    Rows,
    TextError,
    column_index,
    fiscal_year_start,
    infer_measurement_type,
    text,
    width_problem,
)
from .values import CellError, parse_bool, parse_direction, parse_number, parse_target, timespan_warning

NAME = "comptroller"
LABEL = "NYC Comptroller tidy file: ID, Agency.Full.Name.y, Indicator, …, 2016 … 2023"
REQUIRED = ("ID", "Agency.Full.Name.y", "Indicator", "Desired.Direction", "Critical", "Target.MMR")
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
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            report.error(line, *width_problem(header, cells))
            continue
        cell = {name: cells[i].strip() for name, i in index.items()}
        yield from _row(line, cell, years, last_year, seen, report)


def _row(line: int, cell: dict, years: list[str], last_year: str, seen: dict, report: Report) -> list[Record]:
    external_id = cell["ID"]
    if not external_id or len(external_id) > 64:
        report.error(line, "ID", "the indicator ID is empty" if not external_id else "the indicator ID is too long")
        return []
    if external_id in seen:
        report.error(line, "ID", f'indicator ID "{external_id}" already appears on line {seen[external_id]}')
        return []
    seen[external_id] = line
    errors_before = len(report.errors) + report.errors_not_listed
    agency = cell["Agency.Full.Name.y"]
    record = IndicatorRecord(
        external_id=external_id,
        name="",
        agency_name="" if agency.upper() in ("", "NA") else agency,
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
    for column, attribute, parser in (
        ("Desired.Direction", "desired_direction", parse_direction),
        ("Critical", "critical", parse_bool),
    ):
        try:
            setattr(record, attribute, parser(cell[column]))
        except CellError as error:
            report.error(line, column, str(error))
    try:
        record.target, record.target_kind = parse_target(cell["Target.MMR"])
    except CellError as error:
        report.error(line, "Target.MMR", str(error))
    if not record.agency_name:
        report.warn(line, "Agency.Full.Name.y", "no agency given; the indicator goes to UNASSIGNED")
    measurements = []
    for year in years:
        try:
            value, kind = parse_number(cell[year])
        except CellError as error:
            report.error(line, year, str(error))
            continue
        if value is None:
            continue
        if kind == "timespan" and (warning := timespan_warning(cell[year])):
            report.warn(line, year, warning)
        measurements.append(
            MeasurementRecord(
                external_id=external_id,
                period=fiscal_year_start(int(year)),
                value=value,
                line=line,
                column=year,
                preliminary=year == last_year,
                percent=kind == "percent",
            )
        )
    if len(report.errors) + report.errors_not_listed > errors_before:
        return []
    return [record, *measurements]
