"""The audit trail's export file, written by ``manage.py export_audit`` and checked, without the database, by
``manage.py verify_audit --file``.

JSON Lines, UTF-8, each line canonical JSON (sorted keys, no spaces, characters not escaped):

- one line per event, in chain order: ``id``, ``hash``, and the fields the hash covers (``HASHED_FIELDS``)
  exactly as hashed — ``occurred_at`` in UTC with microseconds and offset, ``actor_id`` and ``actor_label``,
  ``data`` as stored. An event's hash is the SHA-256 of the canonical JSON of its line without ``id`` and
  ``hash``; its ``prev_hash`` is the hash of the line before (64 zeros for the first event);
- the last line: ``{"checkpoint": {...}}``, the head of the chain as exported (``created_at``, ``source``,
  ``last_event_id``, ``head_hash``, ``event_count``) and its ``signature``: HMAC-SHA256 of the canonical
  JSON of the other five fields, keyed by SHA-256("percolate.audit.checkpoint" + PERCOLATE_AUDIT_KEY, or the
  SECRET_KEY when that is empty). A file without it was cut short."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .audit_trail import (
    HASHED_FIELDS,
    ChainEntry,
    ChainProblem,
    ChainReport,
    Head,
    audit_trail_walk,
    canonical_json,
    chain_walk,
    checkpoint_fields,
    checkpoint_signature_valid,
)
from .models import AuditCheckpoint
from .services.events import CHECKPOINT_EXPORT, audit_checkpoint_build, audit_checkpoint_record

EVENT_KEYS = frozenset({"id", "hash", *HASHED_FIELDS})
CHECKPOINT_KEYS = frozenset({"created_at", "source", "last_event_id", "head_hash", "event_count", "signature"})


def export_write(handle: IO[str]) -> tuple[ChainReport, AuditCheckpoint]:
    """Write every event, walking the chain against its checkpoints as it goes, then the checkpoint of the head
    it wrote. When the walk found the chain intact that checkpoint is also stored (``audit_checkpoint_record``);
    when not, the file still gets it (the file is evidence of what the database held), and nothing is stored.
    Returns the walk's report and the checkpoint."""

    def write(entry: ChainEntry) -> None:
        handle.write(canonical_json({"id": entry.id, "hash": entry.hash, **entry.content}) + "\n")

    report = audit_trail_walk(tap=write)
    if report.intact:
        checkpoint = audit_checkpoint_record(report=report, source=CHECKPOINT_EXPORT)
    else:
        checkpoint = audit_checkpoint_build(report=report, source=CHECKPOINT_EXPORT)
    handle.write(canonical_json({"checkpoint": {**checkpoint_fields(checkpoint), "signature": checkpoint.signature}}))
    handle.write("\n")
    return report, checkpoint


@dataclass
class ExportCheck:
    """The outcome of checking an export file: every problem (by line), what it holds, and its checkpoint."""

    problems: list[ChainProblem] = field(default_factory=list)
    problem_count: int = 0
    event_count: int = 0
    last_event_id: int | None = None
    head_hash: str = ""
    checkpoint: dict[str, Any] | None = None
    signature_checked: bool = False

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def head(self, label: str) -> Head | None:
        """The checkpoint as a head the database's chain must reach, or ``None`` when the file has none."""
        if self.checkpoint is None:
            return None
        checkpoint = self.checkpoint
        return Head(checkpoint["last_event_id"], checkpoint["head_hash"], checkpoint["event_count"], label)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64


def export_verify(lines: Iterable[str], *, check_signature: bool = True) -> ExportCheck:
    """Check an export file line by line with no database: each line's form, each hash, each link, and the
    last event against the checkpoint at the end (and the checkpoint's signature, unless told not to: someone
    without the key can still check that the file is consistent). A line removed from the middle breaks a
    link and the count; lines removed from the end leave the checkpoint's event missing; a cut-off file has
    no checkpoint."""
    result = ExportCheck(signature_checked=check_signature)
    found: list[ChainProblem] = []  # the first MAX_PROBLEMS of the lines' own problems, all counted
    lines_wrong = 0
    checkpoint_line = 0
    last_line = 0

    def note(problem: ChainProblem) -> None:
        nonlocal lines_wrong
        lines_wrong += 1
        if len(found) < ChainReport.MAX_PROBLEMS:
            found.append(problem)

    def entries() -> Iterator[ChainEntry]:
        nonlocal checkpoint_line, last_line
        for number, line in enumerate(lines, start=1):
            last_line = number
            if checkpoint_line:
                note(ChainProblem(None, "a line after the checkpoint (the checkpoint must be last)", number))
                continue
            read = _read_line(line, number)
            if isinstance(read, ChainEntry):
                yield read
            elif isinstance(read, ChainProblem):
                note(read)
            else:
                checkpoint_line, result.checkpoint = number, read["checkpoint"]

    report = chain_walk(entries(), heads=())
    result.event_count, result.last_event_id, result.head_hash = (
        report.event_count,
        report.last_event_id,
        report.head_hash,
    )
    if result.checkpoint is None:
        ending = [
            ChainProblem(
                None,
                f"the file ends without its checkpoint line: it was cut short after line {last_line}"
                if last_line
                else "the file is empty",
                last_line or None,
            )
        ]
    else:
        ending = _checkpoint_problems(result, checkpoint_line, check_signature)
    result.problem_count = lines_wrong + report.problem_count + len(ending)
    result.problems = sorted([*found, *report.problems, *ending], key=lambda p: p.line or 0)
    return result


def _read_line(line: str, number: int) -> ChainEntry | ChainProblem | dict[str, Any]:
    """One line of the file: an event, the checkpoint (``{"checkpoint": …}``), or what is wrong with it."""
    try:
        row = json.loads(line)
    except ValueError:
        return ChainProblem(None, "not a JSON object", number)
    if not isinstance(row, dict):
        return ChainProblem(None, "not a JSON object", number)
    if set(row) == {"checkpoint"}:
        return row
    if problem := _event_form_problem(row):
        return ChainProblem(row.get("id") if _is_int(row.get("id")) else None, problem, number)
    return ChainEntry(row["id"], {name: row[name] for name in HASHED_FIELDS}, row["hash"], number)


def _event_form_problem(row: dict[str, Any]) -> str:
    if missing := EVENT_KEYS - row.keys():
        return "missing " + ", ".join(sorted(missing))
    if extra := row.keys() - EVENT_KEYS:
        return "fields no hash covers: " + ", ".join(sorted(extra))
    if not _is_int(row["id"]):
        return "its id is not a whole number"
    if not (_is_hash(row["hash"]) and _is_hash(row["prev_hash"])):
        return "its hash or previous-hash is not 64 characters"
    return ""


def _checkpoint_problems(result: ExportCheck, line: int, check_signature: bool) -> list[ChainProblem]:
    checkpoint = result.checkpoint
    if not isinstance(checkpoint, dict) or checkpoint.keys() != CHECKPOINT_KEYS:
        return [ChainProblem(None, f"the checkpoint must have exactly {', '.join(sorted(CHECKPOINT_KEYS))}", line)]
    recorded_id, recorded_hash, recorded_count = (
        checkpoint["last_event_id"],
        checkpoint["head_hash"],
        checkpoint["event_count"],
    )
    label = f"its checkpoint of {checkpoint['created_at']}"
    ends = (
        f"the file ends at event #{result.last_event_id}"
        if result.last_event_id is not None
        else "the file has no event"
    )
    problems = []
    if recorded_id != result.last_event_id:
        if _is_int(recorded_id) and (result.last_event_id is None or recorded_id > result.last_event_id):
            problems.append(
                ChainProblem(
                    recorded_id,
                    f"{ends} but {label} recorded event #{recorded_id} with hash {recorded_hash} "
                    f"({recorded_count} events): the events after it were removed",
                    line,
                    named=True,
                )
            )
        else:
            problems.append(
                ChainProblem(
                    recorded_id if _is_int(recorded_id) else None,
                    f"{ends} but {label} recorded event #{recorded_id} as the last one",
                    line,
                )
            )
    elif recorded_hash != result.head_hash:
        problems.append(
            ChainProblem(recorded_id, f"{label} recorded hash {recorded_hash}, the file has {result.head_hash}", line)
        )
    if recorded_count != result.event_count:
        problems.append(
            ChainProblem(
                None,
                f"{label} counted {recorded_count} events, the file has {result.event_count} "
                "(events were removed or added)",
                line,
            )
        )
    if check_signature:
        fields = {name: checkpoint[name] for name in CHECKPOINT_KEYS - {"signature"}}
        signature = checkpoint["signature"]
        if not (isinstance(signature, str) and checkpoint_signature_valid(fields, signature)):
            problems.append(
                ChainProblem(
                    None,
                    "the checkpoint's signature does not match: the checkpoint was altered, or the "
                    "PERCOLATE_AUDIT_KEY here is not the one that signed it",
                    line,
                )
            )
    return problems
