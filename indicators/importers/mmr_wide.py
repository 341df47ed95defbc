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
  with full-year values in the file (the year its latest value is judged against), else of the latest year with
  any value (a PMMR's 4-month year), else the latest target.
- ``5yr_trend`` is the MMR's own derived label and is not imported.
- **PMMR extracts have no direction column**: ``agency, pmmr_goal, critical, performance_indicator, fy14, fy15,
  fy16, tgt17, tgt18, fy16_4_month_actual, fy17_4_month_actual``. Only ``agency``, ``performance_indicator`` and
  value columns are required. A column the file lacks leaves an existing indicator's attribute as it is; a new
  indicator gets the default: the direction of its latest ``Up``/``Down`` target, else Neutral with a warning
  that names it; not critical; no goal; no target. No extract has a service or a description: an indicator
  keeps those another source gave it.
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
    direction_from_targets,
    fiscal_year_value,
    infer_measurement_type,
    listed,
    named_agency,
    read_cells,
    read_target,
    slug,
    text,
    unstated,
    width_problem,
)
from .values import fiscal_year, parse_bool, parse_direction

NAME = "mmr_wide"
LABEL = "MMR/PMMR open-data extract: agency, mmr_goal, critical, performance_indicator, fyNN…, tgtNN…"
REQUIRED = ("agency", "performance_indicator")
# Each optional column and the indicator's attributes it gives (left unstated when the file lacks it).
OPTIONAL = {
    "critical": ("critical",),
    "desired_direction": ("desired_direction",),
    "goal": ("goal",),  # mmr_goal or pmmr_goal
    "target": ("target", "target_kind"),  # any tgtNN
}
NEVER_STATED = frozenset({"service", "description"})
_VALUE = re.compile(r"^fy(\d{2}|\d{4})(_4_month_actual)?$")
_TARGET = re.compile(r"^tgt(\d{2}|\d{4})$")
FOUR_MONTH_SUFFIX = "-4M"
FIRST_YEAR, LAST_YEAR = 1900, 2100


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
    """Where a file keeps what: the named columns it has (by lower-case name: ``goal`` for ``mmr_goal`` or
    ``pmmr_goal``), the value columns, the target column the indicator keeps (if any), every target column
    latest year first (a direction when the file has none) and the attributes the file does not state."""

    header: list[str]
    named: dict[str, int]
    values: list[_ValueColumn]
    target: tuple[str, int] | None  # (name, position)
    targets: list[int]
    unstated: frozenset[str]

    @property
    def four_month(self) -> bool:
        return any(column.four_month for column in self.values)

    def column_name(self, key: str) -> str:
        """A named column as the file spells it, for problems' column."""
        return self.header[self.named[key]]


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
    """The file's layout, or None when a required column or every value column is missing, or a year cannot be
    a fiscal year (reported). One pass over the header: files come with tens of thousands of columns."""
    index = column_index(header, REQUIRED, report, key=str.lower)
    values, targets, years_out = [], {}, []
    for position, name in enumerate(header):
        if match := _VALUE.match(name.lower()):
            values.append(_ValueColumn(name, position, fiscal_year(match[1]), bool(match[2])))
            year = values[-1].year
        elif match := _TARGET.match(name.lower()):
            year = fiscal_year(match[1])
            targets[year] = (name, position)
        else:
            continue
        if not FIRST_YEAR <= year <= LAST_YEAR:
            years_out.append(name)
    if not values:
        report.error(1, None, "no value columns (named like fy16 or fy17_4_month_actual)")
    if years_out:
        report.error(1, listed(years_out), f"not a fiscal year from {FIRST_YEAR} to {LAST_YEAR}: {listed(years_out)}")
    if index is None or not values or years_out:
        return None
    named = {key: index[key] for key in (*REQUIRED, "critical", "desired_direction") if key in index}
    goal = next((index[name] for name in ("mmr_goal", "pmmr_goal") if name in index), None)
    if goal is not None:
        named["goal"] = goal
    present = {*named, *(("target",) if targets else ())}
    by_year = [targets[year][1] for year in sorted(targets, reverse=True)]
    not_stated = NEVER_STATED | unstated(OPTIONAL, present)
    return _Layout(header, named, values, _target_column(values, targets), by_year, not_stated)


def _target_column(values: list[_ValueColumn], targets: dict[int, tuple[str, int]]) -> tuple[str, int] | None:
    """The target the indicator keeps: that of the latest fiscal year with full-year values in the file (the
    year its latest value is judged against), else of the latest year with any values (a PMMR's 4-month
    year), else the latest one."""
    full_years = [column.year for column in values if not column.four_month]
    for year in (max(full_years, default=0), max(column.year for column in values)):
        if year in targets:
            return targets[year]
    return targets[max(targets)] if targets else None


def _row(line: int, cells: list[str], layout: _Layout, seen: dict[str, int], report: Report) -> list[Record]:
    """The indicator, its 4-month companion and their values from one row, or nothing when the row has an error
    (every error reported)."""
    cell = {name: cells[i].strip() for name, i in layout.named.items()}
    errors_before = report.error_count
    record = _indicator(line, cell, layout, seen, report)
    if record is None:
        return []
    read_cells(
        record,
        line,
        report,
        [
            (layout.column_name(column), attribute, cell[column], parser)
            for column, attribute, parser in (
                ("desired_direction", "desired_direction", parse_direction),
                ("critical", "critical", parse_bool),
            )
            if column in cell
        ],
    )
    if "desired_direction" not in cell:
        direction_from_targets(record, "desired_direction", [cells[i] for i in layout.targets])
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
        goal = text(cell.get("goal", ""), 500)
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
        unstated=layout.unstated,
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
    targets are for full years). What the file does not state a new companion takes from its indicator, so
    only the indicator is warned about."""
    return IndicatorRecord(
        **{
            **record.__dict__,
            "external_id": record.external_id + suffix,
            "name": f"{record.name} (4-month actual)"[:500],
            "frequency": "four_month",
            "target": None,
            "target_kind": "none",
            "parent_external_id": "",
            "unstated": record.unstated - {"target", "target_kind"},
            "companion_of": record.external_id,
            "warning_if_new": "",
        }
    )
