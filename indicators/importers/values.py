"""Parsing the cell values New York's files use. Each parser returns the clean value or raises
``CellError`` with a reason a person can act on."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..models import Direction, TargetKind

MISSING = frozenset({"", "na", "n/a", "-", "—", "null", "none"})
_TIMESPAN = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2})$")
# Comfortably inside the database's DECIMAL(20, 6).
_LIMIT = Decimal("1e13")


class CellError(ValueError):
    """A cell that cannot be read; ``str()`` is the reason."""


def parse_number(raw: str) -> tuple[Decimal | None, str]:
    """A value cell → (value, kind), kind one of ``number``, ``percent``, ``timespan`` (in seconds).
    ``2,117`` → 2117; ``83%`` → 83 (percent); ``0:45`` → 45 s; ``1:02:03`` → 3723 s; NA/empty/- → None."""
    text = (raw or "").strip()
    if text.lower() in MISSING:
        return None, "number"
    match = _TIMESPAN.match(text)
    if match:
        hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
        return Decimal(hours * 3600 + minutes * 60 + seconds), "timespan"
    kind = "number"
    if text.endswith("%"):
        kind, text = "percent", text[:-1].strip()
    cleaned = text.replace(",", "").replace("$", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f'"{raw}" is not a number') from None
    if not value.is_finite() or abs(value) >= _LIMIT:
        raise CellError(f'"{raw}" is not a usable number')
    # The database keeps six decimals: round now so that re-imports compare equal. (Finite: the exponent is an int.)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        value = value.quantize(Decimal("0.000001"))
    return value, kind


def timespan_warning(raw: str) -> str | None:
    """A time span whose seconds (or minutes) field is 60 or more reads, but is probably a typing error."""
    match = _TIMESPAN.match((raw or "").strip())
    if match and (int(match.group(3)) >= 60 or (match.group(1) and int(match.group(2)) >= 60)):
        return f'"{raw}" has a minutes or seconds field of 60 or more'
    return None


_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f", ""})


def parse_bool(raw: str) -> bool:
    text = (raw or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f'"{raw}" is not one of TRUE/FALSE, Yes/No, 1/0')


_DIRECTIONS = {
    "up": Direction.UP,
    "down": Direction.DOWN,
    "neutral": Direction.NEUTRAL,
    "none": Direction.NEUTRAL,
    "*": Direction.NEUTRAL,
    "": Direction.NEUTRAL,
    "na": Direction.NEUTRAL,
}


def parse_direction(raw: str) -> str:
    try:
        return _DIRECTIONS[(raw or "").strip().lower()]
    except KeyError:
        raise CellError(f'"{raw}" is not a direction (Up, Down, Neutral, None or *)') from None


def parse_target(raw: str) -> tuple[Decimal | None, str]:
    """A target cell → (value, target kind): a number, ``Up``/``Down`` (directional), ``*`` (none),
    ``?`` (to be determined), NA/empty (none)."""
    text = (raw or "").strip()
    lowered = text.lower()
    if lowered in MISSING or text == "*":
        return None, TargetKind.NONE
    if text == "?":
        return None, TargetKind.TO_BE_DETERMINED
    if lowered == "up":
        return None, TargetKind.UP
    if lowered == "down":
        return None, TargetKind.DOWN
    try:
        value, _kind = parse_number(text)
    except CellError:
        raise CellError(f'"{raw}" is not a target (a number, Up, Down, * or ?)') from None
    return value, TargetKind.NUMERIC


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]*Z?)?$")  # Socrata: 2021-06-01T00:00:00.000
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$")  # spreadsheet exports: 06/01/2021 12:00:00 AM
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FISCAL_YEAR = re.compile(r"^FY ?(\d{2}|\d{4})$", re.IGNORECASE)


def _date(year: int, month: int, day: int, raw: str) -> dt.date:
    if not 1900 <= year <= 2100:
        raise CellError(f'"{raw}" is not a date between 1900 and 2100')
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(f'"{raw}" is not a valid date') from None


def fiscal_year(digits: str) -> int:
    """The fiscal year that two or four digits name: ``23`` and ``2023`` are both 2023 (files write ``FY23``,
    ``FY2023``, ``fy16``, ``tgt2017``)."""
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def parse_date(raw: str) -> dt.date:
    """``2021-06-01``, ``2021-06-01T00:00:00.000`` (NYC Open Data) or ``06/01/2021`` → a date."""
    text = (raw or "").strip()
    if match := _ISO_DATE.match(text):
        return _date(int(match[1]), int(match[2]), int(match[3]), raw)
    if match := _US_DATE.match(text):
        return _date(int(match[3]), int(match[1]), int(match[2]), raw)
    raise CellError(f'"{raw}" is not a date (YYYY-MM-DD)')


def parse_period(raw: str) -> tuple[dt.date, bool]:
    """A period cell → (a date inside the period, whether the cell named a whole fiscal year). Accepts a date,
    ``2023-07`` (a month) and ``FY2023``/``FY23`` (the fiscal year July 2022 – June 2023)."""
    text = (raw or "").strip()
    if match := _FISCAL_YEAR.match(text):
        return _date(fiscal_year(match[1]) - 1, 7, 1, raw), True
    if match := _MONTH.match(text):
        return _date(int(match[1]), int(match[2]), 1, raw), False
    try:
        return parse_date(text), False
    except CellError:
        message = f'"{raw}" is not a period (a date YYYY-MM-DD, a month YYYY-MM or a fiscal year FY2023)'
        raise CellError(message) from None


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The start of the period of ``frequency`` that contains ``day``: the month, the fiscal quarter (July,
    October, January, April) or the fiscal year (1 July); four-month (PMMR) periods are counted per fiscal
    year, starting 1 July like it."""
    if frequency == "monthly":
        return day.replace(day=1)
    if frequency == "quarterly":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year if day.month >= 7 else day.year - 1, 7, 1)
