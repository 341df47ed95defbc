"""The generic JSON format: an array of objects ``{"indicator": "…", "period": "…", "value": …}`` (optionally
``"preliminary": true``) for existing indicators, read like the generic CSV (see ``generic``). Problems are
reported with the line on which the object starts and the key as column."""

import json
import re

from .base import FileRejected, MeasurementRecord, Report
from .generic import measurement

NAME = "generic_json"
LABEL = 'generic JSON: [{"indicator": …, "period": …, "value": …}, …]'
_SPACE = re.compile(r"\s*")


def _past_space(text: str, position: int) -> int:
    """The position after the white space at ``position``."""
    match = _SPACE.match(text, position)
    return match.end() if match else position


_COLUMNS = {"indicator": "indicator", "period": "period", "value": "value", "preliminary": "preliminary"}


def matches(header: list[str]) -> bool:
    return False  # recognised by its first character, not by a CSV header


def _cell(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_text(text: str, report: Report):
    """The array's objects, decoded one at a time so that a broken one is reported with its line; the text
    around them is checked as strictly as by ``json.loads``."""
    # Numbers stay text so that the value parser applies the same limits as to CSV cells (a 5,000-digit
    # integer would otherwise raise inside the JSON decoder).
    decoder = json.JSONDecoder(parse_float=str, parse_int=str)
    position = _array_start(text)
    line, counted = 1, 0
    while True:
        position = _past_space(text, position)
        if text[position : position + 1] == "]":
            break
        obj, end = _decode(decoder, text, position, line)
        line += text.count("\n", counted, position)
        counted = position
        report.rows += 1
        record = _record(obj, line, report)
        if record is not None:
            yield record
        position = _next_object(text, end)
    _check_end(text, position)


def _array_start(text: str) -> int:
    """The position after the array's opening bracket."""
    position = _past_space(text, 0)
    if text[position : position + 1] != "[":
        raise FileRejected('line 1: a JSON import is an array of {"indicator", "period", "value"} objects', 1)
    return position + 1


def _decode(decoder: json.JSONDecoder, text: str, position: int, line: int) -> tuple[object, int]:
    """The JSON value starting at ``position`` and the position after it. ``line`` (that of the previous object)
    is the best line to give when the value nests too deeply to say where it breaks."""
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        message = f"line {error.lineno}, character {error.colno}: {error.msg} (the JSON is invalid)"
        raise FileRejected(message, error.lineno) from None
    except RecursionError:
        raise FileRejected(f"line {line}: the JSON is nested too deeply", line) from None


def _record(obj: object, line: int, report: Report) -> MeasurementRecord | None:
    """The measurement one object gives, read like a generic CSV row; None when it has none or has errors
    (reported with the object's line and the key as column)."""
    if not isinstance(obj, dict):
        report.error(line, "indicator", "is not an object with indicator, period and value")
    elif missing := [key for key in ("indicator", "period", "value") if key not in obj]:
        report.error(line, ", ".join(missing), f"has no {', '.join(missing)}")
    elif isinstance(obj["value"], bool | list | dict):
        report.error(line, "value", f"{json.dumps(obj['value'])[:40]} is not a number")
    else:
        return measurement(
            line, _cell(obj, "indicator"), _cell(obj, "period"), _cell(obj, "value"), _cell(obj, "preliminary"),
            _COLUMNS, report,
        )  # fmt: skip
    return None


def _next_object(text: str, end: int) -> int:
    """The position after the separator that follows an object: past a comma, or at the closing bracket."""
    position = _past_space(text, end)
    separator = text[position : position + 1]
    if separator == ",":
        return position + 1
    if separator != "]":
        lineno = text.count("\n", 0, position) + 1
        message = f"line {lineno}: expected , or ] between the array's objects (the JSON is invalid)"
        raise FileRejected(message, lineno)
    return position


def _check_end(text: str, position: int) -> None:
    """Only white space may follow the array's closing bracket at ``position``."""
    if text[position + 1 :].strip():
        lineno = text.count("\n", 0, position) + 1
        raise FileRejected(f"line {lineno}: text after the end of the JSON array", lineno)
