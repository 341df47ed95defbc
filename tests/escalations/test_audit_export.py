"""``export_audit`` writes exactly what the hashes cover, and ``verify_audit --file`` checks such a file with no
database: a fresh export passes, a tampered one fails naming the line and the event."""

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import transaction

from escalations.audit_trail import GENESIS_HASH, Verb
from escalations.lifecycle import FlagStatus
from escalations.models import AuditCheckpoint, Event
from escalations.services.events import event_record

from .test_audit import behind_the_applications_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(flag_in, deputy):
    flag_in(FlagStatus.AGENCY_MANAGED)
    flag_in(FlagStatus.PROJECT)
    with transaction.atomic():  # text a line-based reader could split: a line separator, accents, a quote
        event_record(verb=Verb.FLAG_NOTED, actor_label="import", data={"note": 'line\u2028sep — "é"', "n": 1.5})
    return list(Event.objects.order_by("id"))


@pytest.fixture
def export(history, tmp_path) -> Path:
    target = tmp_path / "audit.jsonl"
    call_command("export_audit", str(target))
    return target


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def verify_offline(path: Path, django_db_blocker, **options) -> None:
    """``verify_audit --file`` with every database query refused."""
    with django_db_blocker.block():
        call_command("verify_audit", file=str(path), **options)


def test_the_export_holds_every_event_and_ends_with_the_stored_checkpoint(history, export):
    rows = [json.loads(line) for line in lines_of(export)]
    assert [(r["id"], r["verb"], r["hash"], r["prev_hash"]) for r in rows[:-1]] == [
        (e.pk, e.verb, e.hash, e.prev_hash) for e in history
    ]
    checkpoint = AuditCheckpoint.objects.get()
    assert rows[-1] == {
        "checkpoint": {
            "created_at": checkpoint.created_at.isoformat(timespec="microseconds"),
            "source": "export_audit",
            "last_event_id": history[-1].pk,
            "head_hash": history[-1].hash,
            "event_count": len(history),
            "signature": checkpoint.signature,
        }
    }


def test_each_hash_can_be_recomputed_from_its_line_as_the_readme_says(history, export):
    for line, event in zip(lines_of(export), history, strict=False):
        row = json.loads(line)
        content = {key: value for key, value in row.items() if key not in ("id", "hash")}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == row["hash"] == event.hash
        # The time as hashed: UTC, to the microsecond, with its offset.
        assert dt.datetime.fromisoformat(row["occurred_at"]) == event.occurred_at
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", row["occurred_at"])
    assert json.loads(lines_of(export)[len(history) - 1])["data"] == {"note": 'line\u2028sep — "é"', "n": 1.5}


def test_a_fresh_export_verifies_without_the_database(export, django_db_blocker, history, capsys):
    verify_offline(export, django_db_blocker)
    out = capsys.readouterr().out
    assert f"export intact: {len(history)} events, head event #{history[-1].pk}" in out
    assert "signature checked" in out


def edit_field(lines: list[str], index: int, field: str, value) -> list[str]:
    row = json.loads(lines[index])
    row[field] = value
    return [*lines[:index], json.dumps(row, ensure_ascii=False), *lines[index + 1 :]]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(
            lambda lines, h: edit_field(lines, 2, "to_status", "resolved"),
            lambda h, lines: f"line 3: event #{h[2].pk}: its content does not match its hash",
            id="edited field",
        ),
        pytest.param(
            lambda lines, h: edit_field(lines, 1, "data", {"edited": True}),
            lambda h, lines: f"line 2: event #{h[1].pk}: its content does not match its hash",
            id="edited data",
        ),
        pytest.param(
            lambda lines, h: edit_field(lines, 0, "occurred_at", h[0].occurred_at.isoformat(timespec="milliseconds")),
            lambda h, lines: f"line 1: event #{h[0].pk}: its content does not match its hash",
            id="time to the millisecond",
        ),
        pytest.param(
            lambda lines, h: edit_field(lines, 3, "actor_label", "someone else"),
            lambda h, lines: f"line 4: event #{h[3].pk}: its content does not match its hash",
            id="edited actor",
        ),
        pytest.param(
            lambda lines, h: [*lines[:2], *lines[3:]],
            lambda h, lines: f"line 3: event #{h[3].pk}: its previous-hash does not match the event before it",
            id="deleted line",
        ),
        pytest.param(
            lambda lines, h: [*lines[:-3], lines[-1]],
            lambda h, lines: (
                f"the file ends at event #{h[-3].pk} but its checkpoint of "
                f"{json.loads(lines[-1])['checkpoint']['created_at']} recorded event #{h[-1].pk}"
            ),
            id="truncated end",
        ),
        pytest.param(
            lambda lines, h: lines[:-3],
            lambda h, lines: f"the file ends without its checkpoint line: it was cut short after line {len(h) - 2}",
            id="cut off",
        ),
        pytest.param(
            lambda lines, h: [*lines[:-1], lines[0], lines[-1]],
            lambda h, lines: f"line {len(h) + 1}: event #{h[0].pk}: its previous-hash does not match",
            id="line added",
        ),
        pytest.param(
            lambda lines, h: [*lines[:-1], lines[-1], lines[0]],
            lambda h, lines: f"line {len(h) + 2}: a line after the checkpoint",
            id="line after the checkpoint",
        ),
        pytest.param(
            lambda lines, h: [*lines[:2], "{not json", *lines[2:]],
            lambda h, lines: "line 3: not a JSON object",
            id="garbage line",
        ),
        pytest.param(
            lambda lines, h: edit_field(lines, 0, "note", "not covered"),
            lambda h, lines: f"line 1: event #{h[0].pk}: fields no hash covers: note",
            id="unhashed field",
        ),
    ],
)
def test_a_tampered_export_fails_naming_the_line(export, history, django_db_blocker, capsys, tamper, expected):
    original = lines_of(export)
    rewrite(export, tamper(original, history))
    with pytest.raises(CommandError, match="fails verification") as failure:
        verify_offline(export, django_db_blocker)
    assert expected(history, original) in str(failure.value) + capsys.readouterr().err


def forge_checkpoint(lines: list[str], last: Event, count: int) -> list[str]:
    """Cut the end and rewrite the checkpoint to match, as someone without the signing key would."""
    row = json.loads(lines[-1])
    row["checkpoint"].update(last_event_id=last.pk, head_hash=last.hash, event_count=count)
    return [*lines[:count], json.dumps(row)]


def test_a_rewritten_checkpoint_fails_its_signature(export, history, django_db_blocker, capsys):
    rewrite(export, forge_checkpoint(lines_of(export), history[-3], len(history) - 2))
    with pytest.raises(CommandError, match="the checkpoint's signature does not match"):
        verify_offline(export, django_db_blocker)


def test_without_the_key_only_the_files_consistency_is_checked(export, history, django_db_blocker, capsys):
    rewrite(export, forge_checkpoint(lines_of(export), history[-3], len(history) - 2))
    verify_offline(export, django_db_blocker, skip_signature=True)
    assert "signature NOT checked" in capsys.readouterr().out


def test_another_key_fails_the_signature(export, django_db_blocker, settings):
    settings.PERCOLATE_AUDIT_KEY = "the off-site key"
    with pytest.raises(CommandError, match="not the one that signed it"):
        verify_offline(export, django_db_blocker)


def test_an_export_of_an_empty_trail_verifies(tmp_path, django_db_blocker):
    target = tmp_path / "empty.jsonl"
    call_command("export_audit", str(target))
    assert json.loads(target.read_text())["checkpoint"]["head_hash"] == GENESIS_HASH
    verify_offline(target, django_db_blocker)


@pytest.mark.parametrize("content", [b"", b"\xff\xfe not text", b"[1, 2]\n", b'{"checkpoint": 3}\n'])
def test_what_is_not_an_export_fails_cleanly(tmp_path, django_db_blocker, content):
    target = tmp_path / "other.jsonl"
    target.write_bytes(content)
    with pytest.raises(CommandError):
        verify_offline(target, django_db_blocker)


def test_a_missing_file_fails_cleanly(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("verify_audit", file=str(tmp_path / "absent.jsonl"))


def test_an_export_of_a_broken_chain_is_written_but_not_checkpointed(history, tmp_path, django_db_blocker, capsys):
    behind_the_applications_back(
        f"UPDATE {Event._meta.db_table} SET to_status = %s WHERE id = %s", ["resolved", history[2].pk]
    )
    target = tmp_path / "audit.jsonl"
    with pytest.raises(CommandError, match=f"the audit chain is broken .*event #{history[2].pk}"):
        call_command("export_audit", str(target))
    assert AuditCheckpoint.objects.count() == 0
    with pytest.raises(CommandError) as failure:
        verify_offline(target, django_db_blocker)
    reported = str(failure.value) + capsys.readouterr().err
    assert f"line 3: event #{history[2].pk}: its content does not match its hash" in reported


def test_the_command_exits_non_zero_on_a_tampered_file(export, history):
    """As an operator runs it: a process of its own, no database configured at all."""
    rewrite(export, lines_of(export)[:-3])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    }
    run = subprocess.run(
        [sys.executable, "manage.py", "verify_audit", "--file", str(export)],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "cut short" in run.stderr


def test_the_database_verifies_against_an_export_it_holds(export, history, capsys):
    call_command("verify_audit", against=str(export))
    out = capsys.readouterr().out
    assert f"audit chain intact: {len(history)} events" in out
    assert f"including the checkpoint of {export}" in out


def test_a_restore_from_an_older_backup_fails_against_a_later_export(export, history):
    """The restored database lacks the export's last events and its checkpoint: on its own it verifies, but
    the export proves that events were lost."""
    for event in history[-2:]:
        behind_the_applications_back(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [event.pk])
    behind_the_applications_back(f"DELETE FROM {AuditCheckpoint._meta.db_table}", [])
    call_command("verify_audit")
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", against=str(export))
    assert f"the chain ends at event #{history[-3].pk} but the checkpoint of {export} " in str(failure.value)
    assert f"recorded event #{history[-1].pk} with hash {history[-1].hash}" in str(failure.value)


def test_the_database_is_not_checked_against_a_tampered_export(export, history):
    rewrite(export, lines_of(export)[:-1])
    with pytest.raises(CommandError, match="cut short"):
        call_command("verify_audit", against=str(export))
