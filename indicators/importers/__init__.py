"""Readers for the file formats New York publishes. Each format module offers ``NAME``, ``LABEL``,
``matches(header)`` and ``parse(header, rows, report)``, a generator of records; ``open_source`` checks and
fingerprints a file without holding it twice in memory, and ``read`` picks the format and streams its records.

Every problem with the file as a whole (empty, binary, not UTF-8, too large, unknown format) raises
``FileRejected``; problems with single rows go to the ``Report``."""

import codecs
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
    """Check a file in one streaming pass: size limit, emptiness, NUL bytes (binary data), UTF-8; hash it and
    count its lines. ``content`` is bytes or a seekable binary file (e.g. a Django ``UploadedFile``). ``also``,
    when given, receives each chunk in order once it has passed the checks (a background upload deflates the
    file in the same pass), so that the file is read once."""
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    stream.seek(0)
    digest, size, lines, blank = hashlib.sha256(), 0, 0, True
    if stream.read(2) in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export: readable, but every other byte is NUL.
        raise FileRejected("the file is UTF-16 text; save it as CSV UTF-8 and import it again")
    stream.seek(0)
    utf8 = _Utf8Check()
    after_cr = False  # the last chunk ended with "\r": a "\n" starting this one ends no new line
    while chunk := stream.read(_CHUNK):
        if size + len(chunk) > max_bytes:
            raise FileRejected(
                f"the file is larger than the limit of {max_bytes:,} bytes (setting PERCOLATE_IMPORT_MAX_BYTES)"
            )
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = lines + _breaks(chunk[:nul], after_cr) + 1
            raise FileRejected(f"the file holds binary data (a NUL byte on line {line}), not CSV or JSON text", line)
        utf8.feed(chunk)
        if also is not None:
            also(chunk)
        digest.update(chunk)
        size += len(chunk)
        lines += _breaks(chunk, after_cr)
        after_cr = chunk.endswith(b"\r")
        blank = blank and not chunk.strip()
    utf8.feed(b"", final=True)
    if blank:
        raise FileRejected("the file is empty")
    stream.seek(0)
    return Source(stream=stream, sha256=digest.hexdigest(), size=size, lines=lines)


def _breaks(data: bytes, after_cr: bool) -> int:
    """The line breaks in ``data`` as the csv module counts them: "\r\n", "\n", or a lone "\r" (Excel's "CSV
    (Macintosh)"). ``after_cr``: the bytes before ``data`` ended with "\r", so a "\n" it starts with ends no line."""
    count = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return count - 1 if after_cr and data.startswith(b"\n") else count


def _after_last_break(data: bytes) -> int:
    """Where the last line of ``data`` starts (0: no break in it)."""
    return max(data.rfind(b"\n"), data.rfind(b"\r")) + 1


class _Utf8Check:
    """Checks, chunk by chunk as the file streams past, that it is UTF-8 text; a byte that is not is refused
    with the line and character where it stands. (Decoding while importing would find it too, but only a
    buffer's length ahead of the row being read, so the line it could name was wrong.)"""

    def __init__(self) -> None:
        self.pending = b""  # the first bytes of a character cut in two by the end of the last chunk
        self.line = 1  # where the pending bytes start: line, and characters before them on it
        self.character = 0
        self.after_cr = False  # the bytes before the pending ones ended with "\r"
        self.first = True

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        data = self.pending + chunk
        if self.first and data:
            self.first = False
            if data.startswith(codecs.BOM_UTF8):
                self.character = -1  # the byte order mark is not a character of the line
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as error:
            raise self._rejected(data, error.start) from None
        self.pending, decoded = data[used:], data[:used]
        start = _after_last_break(decoded)  # "\r" and "\n" are one byte each, in no other UTF-8 character
        if start == 0:
            self.character += len(text)
        else:
            self.line += _breaks(decoded, self.after_cr)
            self.character = len(decoded[start:].decode())
        if decoded:
            self.after_cr = decoded.endswith(b"\r")

    def _rejected(self, data: bytes, start: int) -> FileRejected:
        """The refusal of the byte at ``data[start]``; the bytes before it are valid UTF-8."""
        before = data[:start]
        line_start = _after_last_break(before)
        line = self.line + _breaks(before, self.after_cr)
        character = (self.character if line_start == 0 else 0) + len(before[line_start:].decode()) + 1
        return FileRejected(
            f"line {line}: the file is not UTF-8 text: byte 0x{data[start]:02X} at character {character} (probably "
            "Latin-1 or Windows-1252); save it as CSV UTF-8 and import it again",
            line,
        )


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
    """A JSON file is decoded whole: its parser needs the text to give each object's line. (``open_source``
    has checked that it is UTF-8.)"""
    return stream.read().decode("utf-8-sig")


def _header(reader) -> list[str]:
    """The CSV file's first line, its names stripped of spaces."""
    try:
        return [name.strip() for name in next(reader)]
    except StopIteration:
        raise FileRejected("the file is empty") from None
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
    physical line where the record ended (quoted cells may hold newlines). The text is UTF-8: ``open_source``
    refused any byte that is not, with its exact line."""
    try:
        for cells in reader:
            if cells and any(cells):
                report.rows += 1
                yield reader.line_num, cells
    except csv.Error as error:
        raise FileRejected(f"line {reader.line_num}: {error}", reader.line_num) from None
