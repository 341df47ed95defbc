"""The generic long CSV: ``indicator, period, value`` (optionally ``preliminary``), one value per row, for
indicators that already exist (``indicator`` is their external id). ``period`` is a date inside the period
(``2023-07-01``, ``2023-07-31``), a month (``2023-07``) or a fiscal year (``FY2023``); the value lands on the
period of the indicator's frequency that contains it."""

from .base import MeasurementRecord, Report, Rows, column_index, width_problem
from .values import CellError, parse_bool, parse_number, parse_period, timespan_warning

NAME = "generic"
LABEL = "generic long CSV: indicator, period, value [, preliminary]"
REQUIRED = ("indicator", "period", "value")


def matches(header: list[str]) -> bool:
    return set(REQUIRED) <= {name.lower() for name in header}


def measurement(
    line: int, indicator: str, period: str, value: str, preliminary: str, columns: dict, report: Report
) -> MeasurementRecord | None:
    """One generic row → a measurement (None when the value is missing or the row has errors, reported)."""
    errors_before = len(report.errors) + report.errors_not_listed
    day, whole_year, number, kind, is_preliminary = None, False, None, "number", False
    external_id = indicator.strip()
    if not external_id or len(external_id) > 64 or "\x00" in external_id:
        report.error(line, columns["indicator"], "the indicator id is empty or not usable")
    try:
        day, whole_year = parse_period(period)
    except CellError as error:
        report.error(line, columns["period"], str(error))
    try:
        number, kind = parse_number(value)
    except CellError as error:
        report.error(line, columns["value"], str(error))
    try:
        is_preliminary = parse_bool(preliminary)
    except CellError as error:
        report.error(line, columns.get("preliminary", "preliminary"), str(error))
    if len(report.errors) + report.errors_not_listed > errors_before or number is None or day is None:
        return None
    if kind == "timespan" and (warning := timespan_warning(value)):
        report.warn(line, columns["value"], warning)
    return MeasurementRecord(
        external_id, day, number, line, columns["value"], is_preliminary, kind == "percent", whole_year
    )


def parse(header: list[str], rows: Rows, report: Report):
    index = column_index(header, REQUIRED, report, key=str.lower)
    if index is None:
        return
    columns = {key: header[i] for key, i in index.items()}
    i_indicator, i_period, i_value = index["indicator"], index["period"], index["value"]
    i_preliminary = index.get("preliminary")
    for line, cells in rows:
        if len(cells) != len(header):
            report.error(line, *width_problem(header, cells))
            continue
        preliminary = cells[i_preliminary] if i_preliminary is not None else ""
        record = measurement(line, cells[i_indicator], cells[i_period], cells[i_value], preliminary, columns, report)
        if record is not None:
            yield record
