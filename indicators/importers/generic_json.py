"""The generic JSON format: an array of objects ``{"indicator": "…", "period": "…", "value": …}`` (optionally
``"preliminary": true``) for existing indicators, read like the generic CSV (see ``generic``). Problems are
reported with the line on which the object starts and the key as column."""

import json
import re

from .base import Report
from .generic import measurement

NAME = "generic_json"
LABEL = 'generic JSON: [{"indicator": …, "period": …, "value": …}, …]'
_SPACE = re.compile(r"\s*")  # matches at every position: its match() is never None (the ignores below)
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
    from . import FileRejected  # the package imports this module

    # Numbers stay text so that the value parser applies the same limits as to CSV cells (a 5,000-digit
    # integer would otherwise raise inside the JSON decoder).
    decoder = json.JSONDecoder(parse_float=str, parse_int=str)
    position = _SPACE.match(text).end()  # type: ignore[union-attr]
    if text[position : position + 1] != "[":
        raise FileRejected('line 1: a JSON import is an array of {"indicator", "period", "value"} objects', 1)
    position += 1
    line, counted = 1, 0

    def fail(error: json.JSONDecodeError):
        message = f"line {error.lineno}, character {error.colno}: {error.msg} (the JSON is invalid)"
        return FileRejected(message, error.lineno)

    while True:
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        if text[position : position + 1] == "]":
            break
        try:
            obj, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise fail(error) from None
        except RecursionError:
            raise FileRejected(f"line {line}: the JSON is nested too deeply", line) from None
        line += text.count("\n", counted, position)
        counted = position
        report.rows += 1
        if not isinstance(obj, dict):
            report.error(line, "indicator", "is not an object with indicator, period and value")
        elif missing := [key for key in ("indicator", "period", "value") if key not in obj]:
            report.error(line, ", ".join(missing), f"has no {', '.join(missing)}")
        elif isinstance(obj["value"], bool | list | dict):
            report.error(line, "value", f"{json.dumps(obj['value'])[:40]} is not a number")
        else:
            record = measurement(
                line, _cell(obj, "indicator"), _cell(obj, "period"), _cell(obj, "value"), _cell(obj, "preliminary"),
                _COLUMNS, report,
            )  # fmt: skip
            if record is not None:
                yield record
        position = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        separator = text[position : position + 1]
        if separator == ",":
            position += 1
        elif separator != "]":
            lineno = text.count("\n", 0, position) + 1
            message = f"line {lineno}: expected , or ] between the array's objects (the JSON is invalid)"
            raise FileRejected(message, lineno)
    if text[position + 1 :].strip():
        lineno = text.count("\n", 0, position) + 1
        raise FileRejected(f"line {lineno}: text after the end of the JSON array", lineno)
