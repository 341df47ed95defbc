"""The API reads JSON (and, for imports, multipart files) — JSON that is bounded: at most
``PERCOLATE_API_MAX_BODY_BYTES`` bytes, nested at most ``MAX_DEPTH`` levels, and valid Unicode. Anything else
is a 400 in the API's error shape, never a crash deep in the decoder or the database."""

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def _depth(text: str) -> int:
    """How deeply the JSON in ``text`` nests (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = settings.PERCOLATE_API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ParseError(f"The request body is larger than {limit} bytes.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The request body is not UTF-8 text.") from None
        if _depth(text) > MAX_DEPTH:
            raise ParseError(f"The JSON is nested more than {MAX_DEPTH} levels deep.")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"The request body is not valid JSON: {error}") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("The JSON holds text that is not valid Unicode (a lone surrogate).") from None
        return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")
