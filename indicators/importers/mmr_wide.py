"""MMR and PMMR open-data extracts in wide layout (NYC Open Data's per-year "MMR Agency Performance
Indicators" tables): one row per indicator, ``agency, mmr_goal|pmmr_goal, critical, performance_indicator,
fyNN …, tgtNN …, desired_direction, 5yr_trend``; PMMR extracts add ``fyNN_4_month_actual`` columns.

MMR quirks handled here:
- The extracts carry **no indicator ID**. The external id is derived from the agency and the indicator's name:
  ``MMR-<agency letters and digits>-<name slug>``, e.g. ``MMR-311-calls-answered-in-30-seconds-pct`` ("%" is
  kept as ``pct``, "$" as ``usd``, so "Cases" and "Cases (%)" stay apart). It is the same in every year's
  extract, so re-importing next year's file extends the same series. Ids longer than 61 characters are cut and
  end in 8 hex digits of the full name's SHA-1, so they stay unique and stable.
- ``fyNN_4_month_actual`` is the PMMR's July–October value. It is not comparable to a full year (a count over
  four months is about a third of the year's), so it is kept as its own series: a companion indicator
  ``<id>-4M`` (frequency four-month), each value marked preliminary.
- Targets are per fiscal year (``tgt16``, ``tgt17``); the indicator keeps the target of the latest fiscal year
  that has value columns in the file (the year its latest value is judged against), else the latest target.
- ``5yr_trend`` is the MMR's own derived label and is not imported.
"""

import hashlib
import re

from .base import (
    IndicatorRecord,
    MeasurementRecord,
    Report,
    Rows,
    TextError,
    column_index,
    fiscal_year_start,
    infer_measurement_type,
    slug,
    text,
    width_problem,
)
from .values import CellError, parse_bool, parse_direction, parse_number, parse_target, timespan_warning

NAME = "mmr_wide"
LABEL = "MMR/PMMR open-data extract: agency, mmr_goal, critical, performance_indicator, fyNN…, tgtNN…"
REQUIRED = ("agency", "critical", "performance_indicator", "desired_direction")
_VALUE = re.compile(r"^fy(\d{2}|\d{4})(_4_month_actual)?$")
_TARGET = re.compile(r"^tgt(\d{2}|\d{4})$")
FOUR_MONTH_SUFFIX = "-4M"


def _year(digits: str) -> int:
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def matches(header: list[str]) -> bool:
    lowered = [name.lower() for name in header]
    return "performance_indicator" in lowered and any(_VALUE.match(name) for name in lowered)


def derive_external_id(agency: str, name: str) -> str:
    """The stable id of a wide-format indicator (see the module docstring)."""
    agency_part = re.sub(r"[^A-Z0-9]", "", agency.upper()) or "NA"
    name_part = slug(name)
    external_id = f"MMR-{agency_part}-{name_part}"
    if len(external_id) > 61:
        digest = hashlib.sha1(f"{agency_part}/{name_part}".encode()).hexdigest()[:8]
        external_id = f"{external_id[:52].rstrip('-')}-{digest}"
    return external_id


def parse(header: list[str], rows: Rows, report: Report):
    index = column_index(header, REQUIRED, report, key=str.lower)
    matches = [(name, _VALUE.match(name.lower())) for name in header]
    values = [(name, _year(m[1]), bool(m[2])) for name, m in matches if m]
    targets = {_year(m[1]): name for name in header if (m := _TARGET.match(name.lower()))}
    if not values:
        report.error(1, None, "no value columns (named like fy16 or fy17_4_month_actual)")
    if index is None or not values:
        return
    goal_column = next((name for name in ("mmr_goal", "pmmr_goal") if name in index), None)
    full_years = [year for _, year, four_month in values if not four_month]
    target_year = max(full_years or [year for _, year, _ in values])
    target_column = targets.get(target_year) or (targets[max(targets)] if targets else None)
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            report.error(line, *width_problem(header, cells))
            continue
        cell = {name: cells[i].strip() for name, i in index.items()}
        errors_before = len(report.errors) + report.errors_not_listed
        try:
            name = text(cell["performance_indicator"], 480)
            agency = text(cell["agency"], 32)
            goal = text(cell.get(goal_column, ""), 500) if goal_column else ""
        except TextError as error:
            report.error(line, None, f"a text cell {error}")
            continue
        if not name:
            report.error(line, header[index["performance_indicator"]], "the indicator name is empty")
            continue
        external_id = derive_external_id(agency, name)
        if external_id in seen:
            report.error(
                line,
                header[index["performance_indicator"]],
                f'"{name}" of agency "{agency}" already appears on line {seen[external_id]}',
            )
            continue
        seen[external_id] = line
        record = IndicatorRecord(
            external_id=external_id,
            name=name,
            agency_name="" if agency.upper() in ("", "NA") else agency,
            agency_code=agency,
            goal=goal,
            line=line,
        )
        record.measurement_type, record.unit = infer_measurement_type(name)
        for column, attribute, parser in (
            ("desired_direction", "desired_direction", parse_direction),
            ("critical", "critical", parse_bool),
        ):
            try:
                setattr(record, attribute, parser(cell[column]))
            except CellError as error:
                report.error(line, header[index[column]], str(error))
        if target_column:
            try:
                record.target, record.target_kind = parse_target(cells[header.index(target_column)])
            except CellError as error:
                report.error(line, target_column, str(error))
        if not record.agency_name:
            report.warn(line, header[index["agency"]], "no agency given; the indicator goes to UNASSIGNED")
        measurements = []
        for column, year, four_month in values:
            raw = cells[header.index(column)]
            try:
                value, kind = parse_number(raw)
            except CellError as error:
                report.error(line, column, str(error))
                continue
            if value is None:
                continue
            if kind == "timespan" and (warning := timespan_warning(raw)):
                report.warn(line, column, warning)
            if kind == "percent" and record.measurement_type == "number":
                record.measurement_type, record.unit = "percentage", "%"
            measurements.append(
                MeasurementRecord(
                    external_id=external_id + FOUR_MONTH_SUFFIX if four_month else external_id,
                    period=fiscal_year_start(year),
                    value=value,
                    line=line,
                    column=column,
                    preliminary=four_month,
                    percent=kind == "percent",
                )
            )
        if len(report.errors) + report.errors_not_listed > errors_before:
            continue
        yield record
        if any(four_month for _, _, four_month in values):
            yield four_month_companion(record, FOUR_MONTH_SUFFIX)
        yield from measurements


def four_month_companion(record: IndicatorRecord, suffix: str) -> IndicatorRecord:
    """The PMMR 4-month series of ``record``: same agency, direction and criticality, no target (the MMR's
    targets are for full years)."""
    return IndicatorRecord(
        **{
            **record.__dict__,
            "external_id": record.external_id + suffix,
            "name": f"{record.name} (4-month actual)"[:500],
            "frequency": "four_month",
            "target": None,
            "target_kind": "none",
            "parent_external_id": "",
        }
    )
