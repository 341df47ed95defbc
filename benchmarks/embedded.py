"""The embedded mode's figure: the same full check on SQLite (Celery eager, no Redis) on the series the benchmark
built in PostgreSQL, copied into a scratch SQLite file (``bench_checks.py --embedded``)."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# What each copied table's rows are in PostgreSQL, made the text SQLite stores through Django (dates and times
# as ISO text in UTC, booleans as 0/1, numbers as text that SQLite's NUMERIC affinity turns into numbers).
_AS_STORED = {
    "date": "{c}::text",
    "timestamp with time zone": "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    "boolean": "{c}::int",
    "numeric": "{c}::text",
    "jsonb": "{c}::text",
}
# The benchmark's agency, its indicators and measurements, and the rules (the seeded defaults it keeps).
_TABLES = [
    ("indicators_agency", "code = 'BENCH'"),
    ("indicators_thresholdrule", "true"),
    ("indicators_indicator", "external_id LIKE 'BENCH-%%'"),
    ("indicators_measurement", "true"),
]


def _child_env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{db}"
    return env


def remove(db: Path) -> None:
    """The SQLite file and whatever journal it left beside it."""
    for path in (db, *(db.with_name(db.name + suffix) for suffix in ("-journal", "-wal", "-shm"))):
        path.unlink(missing_ok=True)


def build(db: Path) -> float:
    """A fresh SQLite file, migrated, holding the PostgreSQL database's benchmark rows; seconds it took."""
    began = time.monotonic()
    remove(db)
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=_child_env(db), check=True)
    lite = sqlite3.connect(db, isolation_level=None)
    lite.execute("PRAGMA synchronous = OFF")  # a scratch copy: nothing to keep if the machine stops
    lite.execute("BEGIN")
    lite.execute("DELETE FROM indicators_thresholdrule")
    lite.execute("DELETE FROM indicators_agency WHERE code = 'BENCH'")
    for table, where in _TABLES:
        lite_columns = {row[1] for row in lite.execute(f"PRAGMA table_info({table})")}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
                " ORDER BY ordinal_position",
                [table],
            )
            columns = [(name, kind) for name, kind in cursor.fetchall() if name in lite_columns]
        select = ", ".join(_AS_STORED.get(kind, "{c}").format(c=name) for name, kind in columns)
        insert = f"INSERT INTO {table} ({', '.join(n for n, _ in columns)}) VALUES ({', '.join('?' * len(columns))})"
        with connection.cursor() as cursor:
            # Streamed (a server-side cursor would need a transaction): psycopg's copy is the fastest reader.
            copy_sql = f"COPY (SELECT {select} FROM {table} WHERE {where.replace('%%', '%')} ORDER BY id) TO STDOUT"
            with cursor.cursor.copy(copy_sql) as copy:
                batch = []
                for row in copy.rows():
                    batch.append(row)
                    if len(batch) == 50_000:
                        lite.executemany(insert, batch)
                        batch.clear()
                lite.executemany(insert, batch)
    lite.execute("COMMIT")
    lite.execute("ANALYZE")  # the planner's statistics, as PostgreSQL's VACUUM ANALYZE after the build
    lite.close()
    return time.monotonic() - began


def copy(built: Path, db: Path) -> None:
    """``db`` becomes a copy of the ``built`` file (SQLite's backup, whole), written through to disk before a run
    is timed on it: each run starts from the same state, and none pays for writing out the one before."""
    remove(db)
    source, target = sqlite3.connect(built), sqlite3.connect(db)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    os.sync()


# The latest check run's start and end, as its ledger records them.
LATEST_RUN = "SELECT started_at, finished_at FROM indicators_checkrun ORDER BY id DESC LIMIT 1"


def run_full(db: Path, as_of: str) -> tuple[float, float]:
    """``manage.py run_checks --full`` on the SQLite copy in a child process, tasks eager: (the run's seconds in
    its ledger, the child's wall-clock seconds)."""
    began = time.monotonic()
    subprocess.run(
        [PY, "manage.py", "run_checks", "--full", "--as-of", as_of], cwd=ROOT, env=_child_env(db), check=True
    )
    process_s = time.monotonic() - began
    lite = sqlite3.connect(db)
    try:
        started, finished = (dt.datetime.fromisoformat(value) for value in lite.execute(LATEST_RUN).fetchone())
    finally:
        lite.close()
    return (finished - started).total_seconds(), process_s


def active_signals(db: Path) -> list[tuple[int, int, str]]:
    lite = sqlite3.connect(db)
    try:
        return lite.execute(
            "SELECT f.indicator_id, s.rule_id, s.severity FROM escalations_signal s"
            " JOIN escalations_flag f ON f.id = s.flag_id WHERE s.cleared_at IS NULL"
        ).fetchall()
    finally:
        lite.close()
