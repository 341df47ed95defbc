"""Readers for the file formats New York publishes. Each format module offers ``NAME``, ``LABEL``,
``matches(header)`` and ``parse(header, rows, report)``, a generator of records; ``open_source`` checks and
fingerprints a file without holding it twice in memory, and ``read`` picks the format and streams its records.

Every problem with the file as a whole (empty, binary, not UTF-8, too large, unknown format) raises
``FileRejected``; problems with single rows go to the ``Report``."""

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from . import comptroller, generic, generic_json, mmr_wide, open_data
from .base import FileRejected, Record, Report

FORMATS = {module.NAME: module for module in (comptroller, mmr_wide, open_data, generic, generic_json)}
_CSV_FORMATS = [module for module in FORMATS.values() if module is not generic_json]
_CHUNK = 1 << 20


def accepted_formats() -> str:
    return "; ".join(f"{module.NAME} ({module.LABEL})" for module in FORMATS.values())


@dataclass
class Source:
    """A checked file: a binary stream positioned at its start, its SHA-256, size and number of lines (the
    progress total)."""

    stream: BinaryIO
    sha256: str
    size: int
    lines: int


def open_source(content: bytes | BinaryIO, *, max_bytes: int, also: Callable[[bytes], object] | None = None) -> Source:
    """Check a file in one streaming pass: size limit, emptiness, NUL bytes (binary data); hash it and count
    its lines. ``content`` is bytes or a seekable binary file (e.g. a Django ``UploadedFile``). ``also``, when
    given, receives each chunk in order once it has passed the checks (a background upload deflates the file
    in the same pass), so that the file is read once."""
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    stream.seek(0)
    digest, size, lines, blank = hashlib.sha256(), 0, 0, True
    if stream.read(2) in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export: readable, but every other byte is NUL.
        raise FileRejected("the file is UTF-16 text; save it as CSV UTF-8 and import it again")
    stream.seek(0)
    while chunk := stream.read(_CHUNK):
        if size + len(chunk) > max_bytes:
            raise FileRejected(
                f"the file is larger than the limit of {max_bytes:,} bytes (setting PERCOLATE_IMPORT_MAX_BYTES)"
            )
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = lines + chunk.count(b"\n", 0, nul) + 1
            raise FileRejected(f"the file holds binary data (a NUL byte on line {line}), not CSV or JSON text", line)
        if also is not None:
            also(chunk)
        digest.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
        blank = blank and not chunk.strip()
    if blank:
        raise FileRejected("the file is empty")
    stream.seek(0)
    return Source(stream=stream, sha256=digest.hexdigest(), size=size, lines=lines)


def _first_character(stream: BinaryIO) -> str:
    head = stream.read(4096)
    stream.seek(0)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")


def read(source: Source, format: str | None, report: Report) -> tuple[str, Iterator[Record]]:
    """(format name, records) for a checked file. Raises ``FileRejected`` up front for an unreadable header
    or unknown format, and while iterating for encoding or CSV-structure errors."""
    if format is not None and format not in FORMATS:
        raise FileRejected(f'unknown format "{format}"; accepted formats: {accepted_formats()}')
    if format == generic_json.NAME or (format is None and _first_character(source.stream) in "[{"):
        return generic_json.NAME, generic_json.parse_text(_json_text(source.stream), report)
    reader = csv.reader(io.TextIOWrapper(source.stream, encoding="utf-8-sig", newline=""))
    header = _header(reader)
    module = FORMATS[format] if format is not None else _csv_format(header)
    return module.NAME, module.parse(header, _data_rows(reader, report), report)


def _json_text(stream: BinaryIO) -> str:
    """A JSON file is decoded whole: its parser needs the text to give each object's line."""
    try:
        return stream.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(f"the file is not UTF-8 text (byte {error.start})") from None


def _header(reader) -> list[str]:
    """The CSV file's first line, its names stripped of spaces."""
    try:
        return [name.strip() for name in next(reader)]
    except StopIteration:
        raise FileRejected("the file is empty") from None
    except UnicodeDecodeError:
        raise FileRejected("line 1: the file is not UTF-8 text", 1) from None
    except csv.Error as error:
        raise FileRejected(f"line 1: the header cannot be read ({error})", 1) from None


def _csv_format(header: list[str]):
    """The first CSV format whose ``matches`` recognises the header."""
    module = next((module for module in _CSV_FORMATS if module.matches(header)), None)
    if module is None:
        raise FileRejected(f"line 1: the header matches no known format; accepted formats: {accepted_formats()}", 1)
    return module


def _data_rows(reader, report: Report) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row that is not blank, counted in ``report.rows``. csv.reader's line_num is the
    physical line where the record ended (quoted cells may hold newlines)."""
    try:
        for cells in reader:
            if cells and any(cells):
                report.rows += 1
                yield reader.line_num, cells
    except UnicodeDecodeError:
        raise FileRejected(f"line {reader.line_num + 1}: the file is not UTF-8 text", reader.line_num + 1) from None
    except csv.Error as error:
        raise FileRejected(f"line {reader.line_num}: {error}", reader.line_num) from None
