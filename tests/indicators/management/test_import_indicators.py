"""``manage.py import_indicators``: the command-line door to the import service."""

import io

import pytest
from django.core.management import CommandError, call_command

from indicators.models import Indicator

from ..conftest import FY16_SAMPLE, LONG_FILE, replace_cell

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_indicators", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_a_file_and_reports_counts():
    out, _ = run(FY16_SAMPLE, "--no-progress")
    assert "mmr_wide, 10 rows, batch #" in out and "created 10 indicators" in out
    out, _ = run(FY16_SAMPLE)
    assert "identical to import batch" in out and "nothing changed" in out


def test_dry_run_writes_nothing():
    out, _ = run(FY16_SAMPLE, "--dry-run")
    assert "dry run, nothing written" in out and "created 10 indicators" in out
    assert Indicator.objects.count() == 0


def test_a_broken_file_lists_every_error_and_fails(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(replace_cell(FY16_SAMPLE.read_bytes(), 5, "fy13", "abc"))
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command("import_indicators", str(broken), stderr=err)

    assert 'error: broken.csv: line 5, column fy13: "abc" is not a number' in err.getvalue()
    assert Indicator.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "nothing.csv")


def test_the_progress_bar_is_drawn_on_request(capsys):
    call_command("import_indicators", str(LONG_FILE), "--progress", stdout=io.StringIO())
    assert "100% 44/44 rows" in capsys.readouterr().err
