"""The NYC Comptroller's tidy indicator file: one row per indicator, fiscal-year values in columns named by
year (``2016 … 2023``). In the shipped file the last year is the PMMR's 4-month value projected to a full year,
so the last year column is marked preliminary."""

import re

from .base import IndicatorRecord, MeasurementRecord, ParseResult, fiscal_year_start, infer_measurement_type
from .values import CellError, parse_bool, parse_direction, parse_number, parse_target

NAME = "comptroller"
REQUIRED = ("ID", "Agency.Full.Name.y", "Indicator", "Desired.Direction", "Critical", "Target.MMR")
_YEAR = re.compile(r"^(19|20)\d\d$")


def matches(header: list[str]) -> bool:
    return "Agency.Full.Name.y" in header and "Indicator" in header


def parse(header: list[str], rows) -> ParseResult:
    """``rows`` yields (line number, list of cells)."""
    result = ParseResult(format=NAME)
    missing = [name for name in REQUIRED if name not in header]
    years = [name for name in header if _YEAR.match(name)]
    if missing:
        result.error(1, None, f"missing column(s): {', '.join(missing)}")
    if not years:
        result.error(1, None, "no fiscal-year value columns (named like 2016, 2017, …)")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        result.error(1, None, f"duplicate column(s): {', '.join(duplicates)}")
    if result.errors:
        return result
    index = {name: header.index(name) for name in header}
    last_year = max(years)
    seen: dict[str, int] = {}
    for line, cells in rows:
        result.rows += 1
        if len(cells) != len(header):
            result.error(line, None, f"has {len(cells)} cells where the header has {len(header)}")
            continue
        cell = {name: cells[i].strip() for name, i in index.items()}
        external_id = cell["ID"]
        if not external_id:
            result.error(line, "ID", "the indicator ID is empty")
            continue
        if external_id in seen:
            result.error(line, "ID", f'indicator ID "{external_id}" already appears on line {seen[external_id]}')
            continue
        seen[external_id] = line
        name = cell["Indicator"]
        if not name:
            result.error(line, "Indicator", "the indicator name is empty")
        errors_before = len(result.errors)
        record = IndicatorRecord(
            external_id=external_id,
            name=name,
            agency_name="" if cell["Agency.Full.Name.y"].upper() in ("", "NA") else cell["Agency.Full.Name.y"],
            agency_number=cell.get("Agency.Number", "").replace("NA", ""),
            service=cell.get("Service", ""),
            goal=cell.get("Goal", ""),
            line=line,
        )
        record.measurement_type, record.unit = infer_measurement_type(name)
        for column, attribute, parser in (
            ("Desired.Direction", "desired_direction", parse_direction),
            ("Critical", "critical", parse_bool),
        ):
            try:
                setattr(record, attribute, parser(cell[column]))
            except CellError as error:
                result.error(line, column, str(error))
        try:
            record.target, record.target_kind = parse_target(cell["Target.MMR"])
        except CellError as error:
            result.error(line, "Target.MMR", str(error))
        if not record.agency_name:
            result.warn(line, "Agency.Full.Name.y", "no agency given; the indicator goes to UNASSIGNED")
        for year in years:
            try:
                value, _kind = parse_number(cell[year])
            except CellError as error:
                result.error(line, year, str(error))
                continue
            if value is not None:
                result.measurements.append(
                    MeasurementRecord(
                        external_id=external_id,
                        period=fiscal_year_start(int(year)),
                        value=value,
                        line=line,
                        column=year,
                        preliminary=year == last_year,
                    )
                )
        if len(result.errors) == errors_before:
            result.indicators.append(record)
    return result
