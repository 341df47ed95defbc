"""A byte that is not UTF-8 is refused with the line (and character) where it stands, in small files and large
ones, in CSV and JSON, through the service and the API; a character cut in two by the importer's read chunk is
not an error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.importers import _CHUNK as READ_CHUNK
from indicators.models import ImportBatch, ImportUpload, Indicator
from indicators.services import ImportRejected, import_file

from ...api.conftest import API, client_for  # noqa: F401
from ..conftest import FY16_SAMPLE, fingerprint

pytestmark = pytest.mark.django_db

HEADER = b"agency,mmr_goal,critical,performance_indicator,fy15,fy16,tgt16,desired_direction,note\n"


def wide_file(rows: int, *, note: bytes = b"", pad: int = 0) -> list[bytes]:
    """An MMR wide extract of ``rows`` indicators (one per line after the header); each row's ignored ``note``
    cell holds ``note`` followed by ``pad`` letters, to make the file as large as a test needs."""
    return [HEADER] + [
        b'DSNY,1a,FALSE,Indicator %d,1,2,Up,Up,"%s%s"\n' % (n, note, b"x" * pad) for n in range(1, rows + 1)
    ]


def refusal(content: bytes, name: str = "latin.csv"):
    before = fingerprint()
    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name=name, content=content)
    assert fingerprint() == before
    (problem,) = rejected.value.errors
    assert "not UTF-8" in problem.message
    return problem


def test_a_latin1_byte_in_the_header_is_on_line_1():
    problem = refusal(HEADER.replace(b"note", b"not\xe9") + b"DSNY,1a,FALSE,Tonnage,1,2,Up,Up,x\n")

    assert problem.line == 1 and "byte 0xE9 at character 85" in problem.message


def test_a_latin1_byte_on_line_701_is_on_line_701_with_its_character():
    lines = wide_file(1000)
    lines[700] = lines[700].replace(b"Indicator 700", b"Indicateur n\xb0 700")  # "n°" in Latin-1
    assert lines[700].index(b"\xb0") == 26

    problem = refusal(b"".join(lines))

    assert problem.line == 701 and "byte 0xB0 at character 27" in problem.message
    assert str(problem).startswith("line 701: the file is not UTF-8 text")


def test_characters_before_the_byte_are_counted_as_characters_not_bytes():
    lines = wide_file(3)
    lines[2] = lines[2].replace(b"Indicator", "Écoles – élèves".encode() + b" \xe9")

    problem = refusal(b"".join(lines))

    assert problem.line == 3 and "at character 31" in problem.message


def test_a_latin1_byte_beyond_the_first_read_chunk_is_on_its_line():
    # 30 rows of about 50 kB: the byte, on line 26, is past the first chunk the importer reads.
    lines = wide_file(30, pad=50_000)
    lines[25] = lines[25].replace(b'"x', b'"caf\xe9 x')
    assert len(b"".join(lines[:25])) > READ_CHUNK

    problem = refusal(b"".join(lines))

    assert problem.line == 26 and "at character 42" in problem.message


def test_a_latin1_byte_many_lines_beyond_the_first_read_chunk_is_on_its_line():
    lines = wide_file(40_000)
    line = 39_000
    lines[line - 1] = lines[line - 1].replace(b"Indicator", b"Indicat\xf6r")
    assert len(b"".join(lines[: line - 1])) > READ_CHUNK

    problem = refusal(b"".join(lines))

    assert problem.line == line and "at character 22" in problem.message


def test_a_latin1_byte_in_a_json_file_is_on_its_line():
    content = b'[\n  {"indicator": "A", "period": "2023-07", "value": 1},\n  {"indicator": "Caf\xe9"}\n]\n'

    problem = refusal(content, "values.json")

    assert problem.line == 3 and "at character 21" in problem.message


def test_a_character_cut_by_the_read_chunk_is_read_whole():
    # "é" is two bytes: put the first one last in the first chunk the importer reads, the second one first in the
    # next; and a BOM at the start, as Excel writes.
    lines = wide_file(30, pad=50_000)
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    content = bytearray(b"".join(lines))
    assert content[READ_CHUNK - 1 : READ_CHUNK + 1] == b"xx"  # inside a note
    content[READ_CHUNK - 1 : READ_CHUNK + 1] = "é".encode()

    outcome = import_file(file_name="cut.csv", content=bytes(content))

    assert outcome.rows == 30 and Indicator.objects.count() == 30


def test_the_api_refuses_a_large_upload_at_once_with_the_line(client_for, lead, settings):  # noqa: F811
    settings.PERCOLATE_IMPORT_BACKGROUND_BYTES = 1024  # would otherwise go to the background and fail there
    lines = FY16_SAMPLE.read_bytes().splitlines(keepends=True)
    content = b"".join([*lines, *(line.replace(b"3-1-1", b"3-1-1 %d" % n) for n in range(80) for line in lines[1:])])
    rows = content.splitlines(keepends=True)
    rows[700] = rows[700].replace(b"3-1-1", b"D\xe9partement", 1)
    file = SimpleUploadedFile("fy16.csv", b"".join(rows), content_type="text/csv")

    response = client_for(lead).post(f"{API}imports/", {"file": file}, format="multipart")

    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["line"] == 701 and "not UTF-8" in error["message"] and "character 2" in error["message"]
    assert not ImportUpload.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    "ending", [b"\r", b"\r\n"], ids=["lone carriage returns (Excel's CSV (Macintosh))", "carriage return, line feed"]
)
def test_lines_ended_by_carriage_returns_count_as_the_csv_reader_counts_them(ending):
    # 30 rows of about 50 kB: the byte, on line 26, is past the first chunk the importer reads.
    lines = [line.replace(b"\n", ending) for line in wide_file(30, pad=50_000)]
    lines[25] = lines[25].replace(b'"x', b'"caf\xe9 x')

    problem = refusal(b"".join(lines))

    assert problem.line == 26 and "at character 42" in problem.message


def test_a_line_break_cut_by_the_read_chunk_counts_once():
    # A "\r\n" whose "\r" is the first chunk's last byte and whose "\n" is the next chunk's first.
    first = HEADER.replace(b"\n", b"\r\n")
    filler = b'DSNY,1a,FALSE,Indicator 1,1,2,Up,Up,"%s"\r\n'
    pad = READ_CHUNK - len(first) - len(filler % b"") + 1  # the filler row's "\r" lands on the chunk's last byte
    content = first + filler % (b"x" * pad) + b'DSNY,1a,FALSE,Indicator 2,1,2,Up,Up,"caf\xe9"\r\n'
    assert content[READ_CHUNK - 1 : READ_CHUNK + 1] == b"\r\n"

    problem = refusal(content)

    assert problem.line == 3 and "at character 41" in problem.message


def test_a_nul_byte_is_on_its_line_in_a_file_of_lone_carriage_returns():
    lines = [line.replace(b"\n", b"\r") for line in wide_file(10)]
    lines[6] = lines[6].replace(b"Indicator", b"Indi\x00cator")

    with pytest.raises(ImportRejected) as rejected:
        import_file(file_name="mac.csv", content=b"".join(lines))

    (problem,) = rejected.value.errors
    assert problem.line == 7 and "binary data" in problem.message


def test_a_file_of_lone_carriage_returns_imports_as_the_same_file_with_line_feeds():
    content = FY16_SAMPLE.read_bytes()
    expected = import_file(file_name="fy16.csv", content=content, dry_run=True)

    outcome = import_file(file_name="mac.csv", content=content.replace(b"\n", b"\r"))

    assert (outcome.rows, outcome.counts) == (expected.rows, expected.counts) and outcome.rows > 0
