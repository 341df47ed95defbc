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
- Metadata (names, target, direction…) repeats on every row; the row with the latest value date wins, so the
  indicator carries the current fiscal year's target. Rows are read once, metadata is re-parsed only where it
  differs from the indicator's previous row.
"""

import datetime as dt
import re
from decimal import Decimal

from .base import (
    IndicatorRecord,
    MeasurementRecord,
    Report,
    Rows,
    TextError,
    column_index,
    infer_measurement_type,
    slug,
    text,
    width_problem,
)
from .values import CellError, parse_bool, parse_date, parse_direction, parse_number, parse_target, timespan_warning

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


def parse(header: list[str], rows: Rows, report: Report):
    index = column_index(header, REQUIRED, report, key=_column_key)
    if index is None:
        return
    name_of = {key: header[i] for key, i in index.items()}
    meta_idx = [index.get(name) for name in METADATA]
    i_id, i_date = index["id"], index["valuedate"]
    i_value, i_ytd, i_parent = index["acceptedvalue"], index["acceptedvalueytd"], index.get("parentid")
    i_geovalue, i_geotype = index.get("geovalue"), index.get("geotype")
    width = len(header)
    dates: dict[str, dt.date] = {}
    seen: dict[str, _Indicator] = {}

    for line, cells in rows:
        if len(cells) != width:
            report.error(line, *width_problem(header, cells))
            continue
        external_id = cells[i_id].strip()
        if i_geovalue is not None and i_parent is not None:
            parent = cells[i_parent].strip()
            if cells[i_geovalue].strip() and (not external_id or external_id == parent):
                geotype = slug(cells[i_geotype]) if i_geotype is not None else ""
                external_id = f"{parent}-{geotype or 'geo'}-{slug(cells[i_geovalue])}"[:58]
        if not external_id or len(external_id) > 60:
            report.error(line, name_of["id"], "the indicator id is empty" if not external_id else "the id is too long")
            continue
        raw_date = cells[i_date]
        day = dates.get(raw_date)
        if day is None:
            try:
                day = dates[raw_date] = parse_date(raw_date)
            except CellError as error:
                report.error(line, name_of["valuedate"], str(error))
                continue
        meta = tuple(cells[i] if i is not None else "" for i in meta_idx)
        state = seen.get(external_id)
        if state is None:
            record = _record(external_id, meta, line, name_of, report)
            frequency = FREQUENCIES.get(meta[9].strip().lower(), "annual")
            clock = _clock(record) if record else ""
            state = seen[external_id] = _Indicator(meta, day, record, frequency, clock)
            if record is not None:
                yield record
        elif meta != state.meta:
            record = _record(external_id, meta, line, name_of, report)
            if record is not None and day >= state.latest and not state.bad:
                state.meta, state.record = meta, record
                state.clock = _clock(record)
                yield record
                for suffix in state.companions:
                    state.companions[suffix] = _companion(record, suffix)
                    yield state.companions[suffix]
        if day > state.latest:
            state.latest = day
        yield from _values(state, external_id, day, cells[i_value], cells[i_ytd], line, name_of, report)


def _values(state: _Indicator, external_id: str, day: dt.date, raw_value: str, raw_ytd: str, line, name_of, report):
    """The measurements one row gives (see the module docstring for which row means what). Both value cells
    are checked on every row, used or not: a broken cell means a broken export."""
    parsed = {}
    for column, raw in (("acceptedvalue", raw_value), ("acceptedvalueytd", raw_ytd)):
        try:
            parsed[column] = (*parse_number(raw), raw)
        except CellError as error:
            report.error(line, name_of[column], str(error))
    if len(parsed) < 2 or state.record is None:
        return
    wanted = []
    if companion := COMPANION.get(state.frequency):
        wanted.append((companion, "acceptedvalue", False))
    if day.month in (6, 10):
        # The full-year (June) or 4-month (October) figure is the year-to-date one; annual indicators may only
        # fill acceptedvalue.
        column = "acceptedvalueytd" if parsed["acceptedvalueytd"][0] is not None else "acceptedvalue"
        wanted.append(("" if day.month == 6 else FOUR_MONTH_SUFFIX, column, day.month == 10))
    for suffix, column, preliminary in wanted:
        value, kind, raw = parsed[column]
        if value is None:
            continue
        if kind == "timespan" and (warning := timespan_warning(raw)):
            report.warn(line, name_of[column], warning)
        elif kind == "number" and state.clock:
            value = _decode_clock(value, state.clock, raw, line, name_of[column], report)
        if suffix and suffix not in state.companions:
            state.companions[suffix] = _companion(state.record, suffix)
            yield state.companions[suffix]
        yield MeasurementRecord(external_id + suffix, day, value, line, name_of[column], preliminary, kind == "percent")


def _record(external_id: str, meta: tuple, line: int, name_of: dict, report: Report) -> IndicatorRecord | None:
    """The indicator described by one row's metadata cells, or None (with errors reported)."""
    (parentid, agency, agency_name, service, goal, indicator, description, retired, direction, frequency, critical,
     measurement_type, geotype, geovalue, target) = meta  # fmt: skip
    errors_before = len(report.errors) + report.errors_not_listed
    record = IndicatorRecord(external_id=external_id, name="", agency_name="", line=line)
    for column, attribute, raw, limit in (
        ("indicator", "name", indicator, 450),
        ("agency", "agency_code", agency, 32),
        ("agency_name", "agency_name", agency_name, 200),
        ("service", "service", service, 500),
        ("goal", "goal", goal, 500),
        ("description", "description", description, 20000),
    ):
        try:
            setattr(record, attribute, text(raw, limit))
        except TextError as error:
            report.error(line, name_of.get(column, column), f"the text {error}")
    if not record.name:
        report.error(line, name_of["indicator"], "the indicator name is empty")
    if record.agency_code.upper() in ("NA", "") and record.agency_name.upper() in ("NA", ""):
        record.agency_code = record.agency_name = ""
        report.warn(line, name_of["agency"], "no agency given; the indicator goes to UNASSIGNED")
    record.agency_name = record.agency_name or record.agency_code
    geovalue = geovalue.strip()
    if geovalue and geovalue.lower() not in record.name.lower():
        record.name = f"{record.name} — {geovalue[:40]}"
    parentid = parentid.strip()
    if parentid and parentid != external_id:
        record.parent_external_id = parentid
    if frequency.strip().lower() in FREQUENCIES:
        record.frequency = "annual"  # the indicator holds the fiscal-year series; see COMPANION
    else:
        report.error(
            line, name_of["frequency"], f'"{frequency}" is not a frequency (Monthly, Quarterly, Annually, PMMR/MMR)'
        )
    for column, attribute, raw, parser in (
        ("desireddirection", "desired_direction", direction, parse_direction),
        ("critical", "critical", critical, parse_bool),
        ("retired", "active", retired, parse_bool),
    ):
        try:
            setattr(record, attribute, parser(raw))
        except CellError as error:
            report.error(line, name_of.get(column, column), str(error))
    record.active = not record.active  # the column says "retired"
    try:
        record.target, record.target_kind = parse_target(target)
    except CellError as error:
        report.error(line, name_of.get("targetmmr", "targetmmr"), str(error))
    record.measurement_type, record.unit = infer_measurement_type(record.name)
    kind = TYPES.get(measurement_type.strip().lower())
    if kind and kind != record.measurement_type:
        record.measurement_type = kind
        record.unit = {"percentage": "%", "currency": "$"}.get(kind, "")
        if kind == "timespan":
            unit = _PLAIN_UNIT.search(record.name)
            record.unit = unit[1].lower() if unit else "seconds"
    if len(report.errors) + report.errors_not_listed > errors_before:
        return None
    return record


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
    if companion.target_kind == "numeric":
        # The MMR's numeric targets are for full years: a month's count or a 4-month total is not comparable.
        companion.target, companion.target_kind = None, "none"
    return companion
