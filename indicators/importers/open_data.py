"""The NYC Open Data long format (the current "MMR Performance Indicators" table): one row per indicator and
value date, ``id, parentid, agency, agency_name, service, goal, indicator, description, source, retired,
desireddirection, frequency, reporting_period, critical, measurement_type, additive, multiplication_factor,
lagtime, geo, geotype, geovalue, fiscalyear, valuedate, acceptedvalue, acceptedvalueytd, targetmmr``.

MMR quirks handled here (each became a rule because the table's rows mean different things by month):
- ``acceptedvalueytd`` is fiscal-year-to-date; ``acceptedvalue`` is the month's own value where there is one.
- The **June** row of a fiscal year carries the full-year value, whatever the frequency (school-year and
  calendar-year indicators land their annual number there too). It goes to the indicator itself (external id =
  the MMR ``id``, period = the fiscal year), so this table, the Comptroller file and the MMR extracts build one
  fiscal-year series per indicator.
- The **October** row carries the PMMR 4-month (July–October) value, which is not comparable to a full year: it
  goes to a companion indicator ``<id>-4M`` (frequency four-month), marked preliminary.
- **Monthly** (and quarterly) indicators' month values (``acceptedvalue``) go to a companion ``<id>-M``
  (``<id>-Q``) at the frequency of the data, one period per month (quarter). Other months of annual indicators
  carry no value of their own and are skipped.
- ``retired = Yes`` → the indicator is kept but inactive (no checks, history stays).
- **Geographic breakouts** (``parentid`` set, ``geotype``/``geovalue`` such as B / Bronx) are indicators of their
  own linked to the parent. When a breakout reuses its parent's id, its id becomes
  ``<parentid>-<geotype>-<geovalue>``.
- **TimeSpan** values whose indicator name says "(minutes:seconds)" or "(hours:minutes)" are published as
  decimals, 6.41 meaning 6 minutes 41 seconds; they are decoded to seconds (a fraction of .60 or more cannot be
  seconds and is warned about). ``multiplication_factor`` is a display setting and is not applied.
- Companions keep directional targets but not numeric ones (those are set for the full fiscal year).
- Only ``id``, ``agency``, ``indicator``, ``frequency``, ``valuedate``, ``acceptedvalue`` and
  ``acceptedvalueytd`` are required. A metadata column the file lacks leaves an existing indicator's attribute
  as it is; a new indicator gets the default (no service, goal or description, active, not critical, no
  target, the direction of an ``Up``/``Down`` target else Neutral with a warning).
- Metadata (names, target, direction…) repeats on every row; the row with the latest value date wins, so the
  indicator carries the current fiscal year's target. Rows are read once, metadata is re-parsed only where it
  differs from the indicator's previous row.
"""

import datetime as dt
import re
from decimal import Decimal

from .base import (
    NO_AGENCY,
    IndicatorRecord,
    MeasurementRecord,
    Report,
    Rows,
    TextError,
    column_index,
    direction_from_targets,
    infer_measurement_type,
    named_agency,
    read_cells,
    read_target,
    slug,
    text,
    unstated,
    width_problem,
)
from .values import CellError, parse_bool, parse_date, parse_direction, parse_number, timespan_warning

NAME = "open_data_long"
LABEL = "NYC Open Data long table: id, parentid, agency, …, valuedate, acceptedvalue, acceptedvalueytd, targetmmr"
REQUIRED = ("id", "agency", "indicator", "frequency", "valuedate", "acceptedvalue", "acceptedvalueytd")
METADATA = (
    "parentid", "agency", "agency_name", "service", "goal", "indicator", "description", "retired",
    "desireddirection", "frequency", "critical", "measurement_type", "geotype", "geovalue", "targetmmr",
)  # fmt: skip
FREQUENCIES = {
    "monthly": "monthly",
    "quarterly": "quarterly",
    "annually": "annual",
    "annual": "annual",
    "yearly": "annual",
    "bi-annually": "annual",
    "biannually": "annual",
    "pmmr/mmr": "annual",
    "fiscal year": "annual",
}
COMPANION = {"monthly": "-M", "quarterly": "-Q"}
FOUR_MONTH_SUFFIX = "-4M"
TYPES = {"number": "number", "percentage": "percentage", "percent": "percentage", "currency": "currency",
         "timespan": "timespan", "time": "timespan", "ratio": "ratio"}  # fmt: skip
_FREQUENCY = METADATA.index("frequency")
# Each optional metadata column and the indicator's attributes it gives (left unstated when the file lacks it).
OPTIONAL = {
    "service": ("service",),
    "goal": ("goal",),
    "description": ("description",),
    "retired": ("active",),
    "desireddirection": ("desired_direction",),
    "critical": ("critical",),
    "targetmmr": ("target", "target_kind"),
}
REQUIRED_POSITIONS = ("id", "valuedate", "acceptedvalue", "acceptedvalueytd")
_COLON_UNIT = re.compile(r"\(\s*(hours?\s*:\s*minutes?|minutes?\s*:\s*seconds?)\s*\)", re.IGNORECASE)
_PLAIN_UNIT = re.compile(r"\((minutes?|hours?|days?|seconds?)\)", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower().replace(" ", "_")).replace("_", "") if name else ""


_NORMAL = {_key(name): name for name in (*METADATA, *REQUIRED, "fiscalyear")}


def _column_key(name: str) -> str:
    """Header names as the export spells them (``ParentID``, ``Accepted Value YTD``) → the API field name."""
    return _NORMAL.get(_key(name), name.lower())


def matches(header: list[str]) -> bool:
    keys = {_column_key(name) for name in header}
    return {"valuedate", "acceptedvalue", "id"} <= keys


class _Indicator:
    """What the parser remembers per indicator id: its metadata cells, the latest value date seen, the
    records last yielded and which companion series exist."""

    __slots__ = ("bad", "clock", "companions", "frequency", "latest", "meta", "record")

    def __init__(self, meta: tuple, latest: dt.date, record: IndicatorRecord | None, frequency: str, clock: str):
        self.meta, self.latest, self.record, self.frequency, self.clock = meta, latest, record, frequency, clock
        self.companions: dict[str, IndicatorRecord] = {}
        self.bad = record is None

    def seen_on(self, day: dt.date) -> None:
        if day > self.latest:
            self.latest = day


class _Columns:
    """Where one file keeps each column, and its own spelling of their names (problems are reported in it)."""

    __slots__ = ("date", "geotype", "geovalue", "id", "meta", "name_of", "parent", "value", "width", "ytd")

    def __init__(self, header: list[str], index: dict[str, int]):
        self.width = len(header)
        self.name_of = {key: header[i] for key, i in index.items()}
        self.meta = [index.get(name) for name in METADATA]
        self.id, self.date, self.value, self.ytd = (index[name] for name in REQUIRED_POSITIONS)
        self.parent, self.geotype, self.geovalue = index.get("parentid"), index.get("geotype"), index.get("geovalue")

    def metadata(self, cells: list[str]) -> tuple:
        """The row's cells of ``METADATA``, "" for a column the file does not have."""
        return tuple(cells[i] if i is not None else "" for i in self.meta)


def parse(header: list[str], rows: Rows, report: Report):
    index = column_index(header, REQUIRED, report, key=_column_key)
    if index is None:
        return
    columns = _Columns(header, index)
    dates: dict[str, dt.date] = {}  # the table repeats each value date on thousands of rows: parse it once
    seen: dict[str, _Indicator] = {}
    for line, cells in rows:
        if len(cells) != columns.width:
            report.error(line, *width_problem(header, cells))
            continue
        external_id = _external_id(line, cells, columns, report)
        if external_id is None:
            continue
        day = _day(line, cells[columns.date], dates, columns, report)
        if day is None:
            continue
        meta = columns.metadata(cells)
        state = seen.get(external_id)
        if state is None:
            state = seen[external_id] = _first_row(external_id, meta, day, line, columns.name_of, report)
            if not state.bad:
                yield state.record
        elif meta != state.meta:
            yield from _changed_metadata(state, external_id, meta, day, line, columns.name_of, report)
        state.seen_on(day)
        yield from _values(
            state, external_id, day, cells[columns.value], cells[columns.ytd], line, columns.name_of, report
        )


def _external_id(line: int, cells: list[str], columns: _Columns, report: Report) -> str | None:
    """The row's indicator id, or None when it is empty or too long (reported)."""
    external_id = _breakout_id(cells, columns) or cells[columns.id].strip()
    if not external_id or len(external_id) > 60:
        message = "the indicator id is empty" if not external_id else "the id is too long"
        report.error(line, columns.name_of["id"], message)
        return None
    return external_id


def _breakout_id(cells: list[str], columns: _Columns) -> str:
    """``<parentid>-<geotype>-<geovalue>`` for a geographic breakout that has no id of its own or reuses its
    parent's; "" for every other row."""
    if columns.geovalue is None or columns.parent is None or not cells[columns.geovalue].strip():
        return ""
    external_id, parent = cells[columns.id].strip(), cells[columns.parent].strip()
    if external_id and external_id != parent:
        return ""
    geotype = slug(cells[columns.geotype]) if columns.geotype is not None else ""
    return f"{parent}-{geotype or 'geo'}-{slug(cells[columns.geovalue])}"[:58]


def _day(line: int, raw: str, dates: dict[str, dt.date], columns: _Columns, report: Report) -> dt.date | None:
    """The row's value date, or None when it cannot be read (reported)."""
    day = dates.get(raw)
    if day is not None:
        return day
    try:
        day = dates[raw] = parse_date(raw)
    except CellError as error:
        report.error(line, columns.name_of["valuedate"], str(error))
        return None
    return day


def _first_row(external_id: str, meta: tuple, day: dt.date, line: int, name_of: dict, report: Report) -> _Indicator:
    """What is known of an indicator from its first row; without a record (and so without values) when the
    row's metadata has errors."""
    record = _record(external_id, meta, line, name_of, report)
    frequency = FREQUENCIES.get(meta[_FREQUENCY].strip().lower(), "annual")
    return _Indicator(meta, day, record, frequency, _clock(record) if record else "")


def _changed_metadata(
    state: _Indicator, external_id: str, meta: tuple, day: dt.date, line: int, name_of: dict, report: Report
):
    """A row whose metadata differs from the indicator's previous row: its cells are checked, and when the row is
    not older than the latest seen, the indicator and its companions are given again with the new metadata (so
    the current fiscal year's target wins). An indicator whose first row failed stays failed."""
    record = _record(external_id, meta, line, name_of, report)
    if record is None or day < state.latest or state.bad:
        return
    state.meta, state.record, state.clock = meta, record, _clock(record)
    yield record
    for suffix in state.companions:
        state.companions[suffix] = _companion(record, suffix)
        yield state.companions[suffix]


def _values(state: _Indicator, external_id: str, day: dt.date, raw_value: str, raw_ytd: str, line, name_of, report):
    """The measurements one row gives (see the module docstring for which row means what), each series'
    companion indicator before its first value."""
    parsed = _both_values(raw_value, raw_ytd, line, name_of, report)
    if parsed is None or state.bad or state.record is None:
        return
    for suffix, column, preliminary in _series_fed(state.frequency, day, parsed):
        value, kind, raw = parsed[column]
        if value is None:
            continue
        value = _stored_value(value, kind, raw, state.clock, line, name_of[column], report)
        if suffix and suffix not in state.companions:
            state.companions[suffix] = _companion(state.record, suffix)
            yield state.companions[suffix]
        yield MeasurementRecord(external_id + suffix, day, value, line, name_of[column], preliminary, kind == "percent")


def _both_values(raw_value: str, raw_ytd: str, line: int, name_of: dict, report: Report) -> dict | None:
    """Both value cells as (value, kind, raw cell) by column, or None when either cannot be read (reported).
    Both are checked on every row, used or not: a broken cell means a broken export."""
    parsed = {}
    for column, raw in (("acceptedvalue", raw_value), ("acceptedvalueytd", raw_ytd)):
        try:
            parsed[column] = (*parse_number(raw), raw)
        except CellError as error:
            report.error(line, name_of[column], str(error))
    return parsed if len(parsed) == 2 else None


def _series_fed(frequency: str, day: dt.date, parsed: dict) -> list[tuple[str, str, bool]]:
    """(suffix, column, preliminary) of each series a row of ``day`` gives a value to: the month's own value to a
    monthly (quarterly) indicator's ``-M`` (``-Q``) companion; June's year-to-date value to the indicator itself
    (the full year), October's to its ``-4M`` companion."""
    fed = []
    if companion := COMPANION.get(frequency):
        fed.append((companion, "acceptedvalue", False))
    if day.month in (6, 10):
        # Annual indicators may fill only acceptedvalue.
        column = "acceptedvalueytd" if parsed["acceptedvalueytd"][0] is not None else "acceptedvalue"
        fed.append(("" if day.month == 6 else FOUR_MONTH_SUFFIX, column, day.month == 10))
    return fed


def _stored_value(value: Decimal, kind: str, raw: str, clock: str, line: int, column: str, report: Report) -> Decimal:
    """The value as stored: a clock decimal (6.41 for 6:41) in seconds; a time span with a field of 60 or more
    warned about."""
    if kind == "timespan" and (warning := timespan_warning(raw)):
        report.warn(line, column, warning)
    elif kind == "number" and clock:
        value = _decode_clock(value, clock, raw, line, column, report)
    return value


def _record(external_id: str, meta: tuple, line: int, name_of: dict, report: Report) -> IndicatorRecord | None:
    """The indicator described by one row's metadata cells, or None (with errors reported)."""
    (parentid, agency, agency_name, service, goal, indicator, description, retired, direction, frequency, critical,
     measurement_type, _geotype, geovalue, target) = meta  # fmt: skip
    errors_before = report.error_count
    record = IndicatorRecord(external_id=external_id, name="", agency_name="", line=line)
    _read_texts(
        record,
        line,
        name_of,
        report,
        (
            ("indicator", "name", indicator, 450),
            ("agency", "agency_code", agency, 32),
            ("agency_name", "agency_name", agency_name, 200),
            ("service", "service", service, 500),
            ("goal", "goal", goal, 500),
            ("description", "description", description, 20000),
        ),
    )
    if not record.name:
        report.error(line, name_of["indicator"], "the indicator name is empty")
    _set_agency(record, line, name_of, report)
    _set_breakout(record, external_id, parentid, geovalue)
    if frequency.strip().lower() in FREQUENCIES:
        record.frequency = "annual"  # the indicator holds the fiscal-year series; see COMPANION
    else:
        message = f'"{frequency}" is not a frequency (Monthly, Quarterly, Annually, PMMR/MMR)'
        report.error(line, name_of["frequency"], message)
    read_cells(
        record,
        line,
        report,
        (
            (name_of.get("desireddirection", "desireddirection"), "desired_direction", direction, parse_direction),
            (name_of.get("critical", "critical"), "critical", critical, parse_bool),
            (name_of.get("retired", "retired"), "active", retired, _not_retired),
        ),
    )
    read_target(record, line, name_of.get("targetmmr", "targetmmr"), target, report)
    record.unstated = unstated(OPTIONAL, name_of)
    if "desireddirection" not in name_of:
        direction_from_targets(record, "desireddirection", [target])
    _set_measurement_type(record, measurement_type)
    if report.error_count > errors_before:
        return None
    return record


def _read_texts(record: IndicatorRecord, line: int, name_of: dict, report: Report, cells) -> None:
    """Set the record's text attributes from (column, attribute, raw cell, length limit); a cell the database
    cannot keep is reported."""
    for column, attribute, raw, limit in cells:
        try:
            setattr(record, attribute, text(raw, limit))
        except TextError as error:
            report.error(line, name_of.get(column, column), f"the text {error}")


def _set_agency(record: IndicatorRecord, line: int, name_of: dict, report: Report) -> None:
    """The agency by code or name, either of which may be missing; with neither, UNASSIGNED (warned about)."""
    if not named_agency(record.agency_code) and not named_agency(record.agency_name):
        record.agency_code = record.agency_name = ""
        report.warn(line, name_of["agency"], NO_AGENCY)
    record.agency_name = record.agency_name or record.agency_code


def _set_breakout(record: IndicatorRecord, external_id: str, parentid: str, geovalue: str) -> None:
    """A geographic breakout's place in its name ("… — Bronx") and its link to the parent indicator."""
    geovalue = geovalue.strip()
    if geovalue and geovalue.lower() not in record.name.lower():
        record.name = f"{record.name} — {geovalue[:40]}"
    parentid = parentid.strip()
    if parentid and parentid != external_id:
        record.parent_external_id = parentid


def _not_retired(raw: str) -> bool:
    """The table says whether an indicator is retired; the record whether it is active."""
    return not parse_bool(raw)


def _set_measurement_type(record: IndicatorRecord, measurement_type: str) -> None:
    """The measurement type the table states, when it has one, wins over the one the name suggests; a time span
    keeps the unit its name gives ("(days)"), seconds by default."""
    record.measurement_type, record.unit = infer_measurement_type(record.name)
    kind = TYPES.get(measurement_type.strip().lower())
    if not kind or kind == record.measurement_type:
        return
    record.measurement_type = kind
    record.unit = {"percentage": "%", "currency": "$"}.get(kind, "")
    if kind == "timespan":
        unit = _PLAIN_UNIT.search(record.name)
        record.unit = unit[1].lower() if unit else "seconds"


def _clock(record: IndicatorRecord) -> str:
    """ "ms" or "hm" when the indicator's decimal values are really minutes.seconds or hours.minutes."""
    if record.measurement_type != "timespan":
        return ""
    unit = _COLON_UNIT.search(record.name)
    return ("hm" if unit[1].lower().startswith("hour") else "ms") if unit else ""


def _decode_clock(value: Decimal, clock: str, raw: str, line: int, column: str, report: Report) -> Decimal:
    whole = int(abs(value))
    fraction = int((abs(value) - whole) * 100 + Decimal("0.5"))
    if fraction >= 60:
        report.warn(line, column, f'"{raw}" reads as {"hours:minutes" if clock == "hm" else "minutes:seconds"} '
                                  f"but its second part is {fraction}, 60 or more")  # fmt: skip
    seconds = whole * 3600 + fraction * 60 if clock == "hm" else whole * 60 + fraction
    return Decimal(-seconds if value < 0 else seconds)


def _companion(record: IndicatorRecord, suffix: str) -> IndicatorRecord:
    frequency, label = {"-M": ("monthly", "monthly"), "-Q": ("quarterly", "quarterly")}.get(
        suffix, ("four_month", "4-month actual")
    )
    companion = IndicatorRecord(**record.__dict__)
    companion.external_id = record.external_id + suffix
    companion.name = f"{record.name} ({label})"[:500]
    companion.frequency = frequency
    companion.parent_external_id = ""  # breakouts link their fiscal-year indicators; companions follow by id
    # What the file does not state a new companion takes from its indicator (only the indicator is warned
    # about); its target is its own (below).
    companion.companion_of, companion.warning_if_new = record.external_id, ""
    companion.unstated = record.unstated - {"target", "target_kind"}
    if companion.target_kind == "numeric":
        # The MMR's numeric targets are for full years: a month's count or a 4-month total is not comparable.
        companion.target, companion.target_kind = None, "none"
    return companion
