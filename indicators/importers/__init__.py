"""Readers for the file formats New York publishes. Each format module offers ``NAME``, ``matches(header)``
and ``parse(header, rows)``; ``read`` decodes a file, picks the format and returns a ``ParseResult``."""

import csv
import io

from . import comptroller
from .base import ParseResult, Problem

FORMATS = {module.NAME: module for module in (comptroller,)}


class FileRejected(Exception):
    """The file as a whole cannot be read (empty, binary, wrong encoding, unknown format)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.problem = Problem(None, None, message)


def decode(content: bytes) -> str:
    if not content.strip():
        raise FileRejected("the file is empty")
    if b"\x00" in content[:8192]:
        raise FileRejected("the file is binary, not a CSV or JSON text file")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise FileRejected(f"line {line}: the file is not UTF-8 text (byte {error.start})") from None


def read(content: bytes, format: str | None = None) -> ParseResult:
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as error:
        raise FileRejected(f"line 1: the header cannot be read ({error})") from None
    if format is None:
        module = next((m for m in FORMATS.values() if m.matches(header)), None)
        if module is None:
            raise FileRejected(f"line 1: the header matches no known format; accepted formats: {', '.join(FORMATS)}")
    elif format in FORMATS:
        module = FORMATS[format]
    else:
        raise FileRejected(f'unknown format "{format}"; accepted formats: {", ".join(FORMATS)}')

    def rows():
        # csv.reader's line_num is the physical line where the record ended (quoted cells may hold newlines).
        try:
            for cells in reader:
                if cells and any(cell.strip() for cell in cells):
                    yield reader.line_num, cells
        except csv.Error as error:
            raise FileRejected(f"line {reader.line_num}: {error}") from None

    return module.parse(header, rows())
