"""Parsing the cell values New York's files use. Each parser returns the clean value or raises
``CellError`` with a reason a person can act on."""

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
    if value.as_tuple().exponent < -6:  # the database keeps six decimals; round now so re-imports compare equal
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
