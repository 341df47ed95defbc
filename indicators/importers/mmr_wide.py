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
from dataclasses import dataclass

from .base import (
    NO_AGENCY,
    IndicatorRecord,
    MeasurementRecord,
    Record,
    Report,
    Rows,
    TextError,
    column_index,
    fiscal_year_value,
    infer_measurement_type,
    named_agency,
    read_cells,
    read_target,
    slug,
    text,
    width_problem,
)
from .values import fiscal_year, parse_bool, parse_direction

NAME = "mmr_wide"
LABEL = "MMR/PMMR open-data extract: agency, mmr_goal, critical, performance_indicator, fyNN…, tgtNN…"
REQUIRED = ("agency", "critical", "performance_indicator", "desired_direction")
_VALUE = re.compile(r"^fy(\d{2}|\d{4})(_4_month_actual)?$")
_TARGET = re.compile(r"^tgt(\d{2}|\d{4})$")
FOUR_MONTH_SUFFIX = "-4M"


def matches(header: list[str]) -> bool:
    lowered = [name.lower() for name in header]
    return "performance_indicator" in lowered and any(_VALUE.match(name) for name in lowered)


def derive_external_id(agency: str, name: str) -> str:
    """The stable id of a wide-format indicator (see the module docstring)."""
    agency_part = re.sub(r"[^A-Z0-9]", "", agency.upper()) or "NA"
    name_part = slug(name)
    external_id = f"MMR-{agency_part}-{name_part}"
    if len(external_id) > 61:
        digest = hashlib.sha1(f"{agency_part}/{name_part}".encode(), usedforsecurity=False).hexdigest()[:8]
        external_id = f"{external_id[:52].rstrip('-')}-{digest}"
    return external_id


@dataclass(frozen=True)
class _ValueColumn:
    name: str
    position: int
    year: int
    four_month: bool  # fyNN_4_month_actual: the PMMR's July–October value


@dataclass(frozen=True)
class _Layout:
    """Where a file keeps what: the required columns by lower-case name, the value columns, the goal column
    (``mmr_goal`` or ``pmmr_goal``, if any) and the target column the indicator keeps (if any)."""

    header: list[str]
    index: dict[str, int]
    values: list[_ValueColumn]
    goal_column: str | None
    target: tuple[str, int] | None  # (name, position)

    @property
    def four_month(self) -> bool:
        return any(column.four_month for column in self.values)

    def column_name(self, key: str) -> str:
        """A required column as the file spells it, for problems' column."""
        return self.header[self.index[key]]


def parse(header: list[str], rows: Rows, report: Report):
    layout = _layout(header, report)
    if layout is None:
        return
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            report.error(line, *width_problem(header, cells))
            continue
        yield from _row(line, cells, layout, seen, report)


def _layout(header: list[str], report: Report) -> _Layout | None:
    """The file's layout, or None when a required column or every value column is missing (reported)."""
    index = column_index(header, REQUIRED, report, key=str.lower)
    values = [
        _ValueColumn(name, position, fiscal_year(match[1]), bool(match[2]))
        for position, name in enumerate(header)
        if (match := _VALUE.match(name.lower()))
    ]
    if not values:
        report.error(1, None, "no value columns (named like fy16 or fy17_4_month_actual)")
    if index is None or not values:
        return None
    targets = {
        fiscal_year(m[1]): (name, position)
        for position, name in enumerate(header)
        if (m := _TARGET.match(name.lower()))
    }
    goal_column = next((name for name in ("mmr_goal", "pmmr_goal") if name in index), None)
    return _Layout(header, index, values, goal_column, _target_column(values, targets))


def _target_column(values: list[_ValueColumn], targets: dict[int, tuple[str, int]]) -> tuple[str, int] | None:
    """The target the indicator keeps: that of the latest fiscal year with full-year values in the file (the
    year its latest value is judged against), else of the latest year with any values, else the latest one."""
    full_years = [column.year for column in values if not column.four_month]
    target_year = max(full_years or [column.year for column in values])
    if target_year in targets:
        return targets[target_year]
    return targets[max(targets)] if targets else None


def _row(line: int, cells: list[str], layout: _Layout, seen: dict[str, int], report: Report) -> list[Record]:
    """The indicator, its 4-month companion and their values from one row, or nothing when the row has an error
    (every error reported)."""
    cell = {name: cells[i].strip() for name, i in layout.index.items()}
    errors_before = report.error_count
    record = _indicator(line, cell, layout, seen, report)
    if record is None:
        return []
    read_cells(
        record,
        line,
        report,
        (
            (layout.column_name("desired_direction"), "desired_direction", cell["desired_direction"], parse_direction),
            (layout.column_name("critical"), "critical", cell["critical"], parse_bool),
        ),
    )
    if layout.target:
        read_target(record, line, layout.target[0], cells[layout.target[1]], report)
    if not record.agency_name:
        report.warn(line, layout.column_name("agency"), NO_AGENCY)
    measurements = _measurements(line, cells, record, layout, report)
    if report.error_count > errors_before:
        return []
    companion = [four_month_companion(record, FOUR_MONTH_SUFFIX)] if layout.four_month else []
    return [record, *companion, *measurements]


def _indicator(line: int, cell: dict, layout: _Layout, seen: dict[str, int], report: Report) -> IndicatorRecord | None:
    """The indicator a row names, with its derived id; None when its name or agency cannot be read or the same
    indicator appeared on an earlier row (reported)."""
    try:
        name = text(cell["performance_indicator"], 480)
        agency = text(cell["agency"], 32)
        goal = text(cell[layout.goal_column], 500) if layout.goal_column else ""
    except TextError as error:
        report.error(line, None, f"a text cell {error}")
        return None
    if not name:
        report.error(line, layout.column_name("performance_indicator"), "the indicator name is empty")
        return None
    external_id = derive_external_id(agency, name)
    if external_id in seen:
        message = f'"{name}" of agency "{agency}" already appears on line {seen[external_id]}'
        report.error(line, layout.column_name("performance_indicator"), message)
        return None
    seen[external_id] = line
    record = IndicatorRecord(
        external_id=external_id,
        name=name,
        agency_name=named_agency(agency),
        agency_code=agency,
        goal=goal,
        line=line,
        id_from_source=False,
    )
    record.measurement_type, record.unit = infer_measurement_type(name)
    return record


def _measurements(
    line: int, cells: list[str], record: IndicatorRecord, layout: _Layout, report: Report
) -> list[MeasurementRecord]:
    """The row's values: full years to the indicator, 4-month values (preliminary) to its ``-4M`` companion. A
    ``%`` in a value makes an indicator whose name did not say so a percentage."""
    values = (
        fiscal_year_value(
            record.external_id + FOUR_MONTH_SUFFIX if column.four_month else record.external_id,
            column.year,
            cells[column.position],
            line=line,
            column=column.name,
            preliminary=column.four_month,
            report=report,
        )
        for column in layout.values
    )
    measurements = [value for value in values if value is not None]
    if record.measurement_type == "number" and any(value.percent for value in measurements):
        record.measurement_type, record.unit = "percentage", "%"
    return measurements


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
