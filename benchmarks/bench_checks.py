"""Benchmark of the nightly checks on PostgreSQL (``DATABASE_URL``; ``REDIS_URL`` for the two-worker figure).

    DATABASE_URL=postgres://…/percolate_bench REDIS_URL=redis://…/3 \\
        .venv/bin/python benchmarks/bench_checks.py --series 100000 --periods 60

Builds N synthetic monthly series of M periods directly in the database (trend, seasonality, noise, a level
shift in some; 1 in 4 critical, a quarter with numeric targets), with the seeded default rules, then measures:

- full_s        full check end to end (cases, signals and events written), one process
                (``manage.py run_checks --full``), as the run's ledger records it: started → finished
                (every ``*_s`` of a run is; ``*_process_s`` is the child's wall clock, the ~0.5 s of
                starting Python and Django included, which the nightly run in a running worker does not pay)
- floor_s       one hand-written SQL statement computing the same breaches into a scratch table (issue 17's
                floor; previous_floor_s: the statement it replaced, for the record)
- upsert_floor_s  one statement computing them and upserting the cases and signals into scratch tables
- embedded_s    with --embedded: the same full check on a SQLite copy of the series (eager, no Redis)
- noop_s        incremental run with no new data
- new1pct_s     incremental run after 1 % of the series got a new period
- workers1_s / workers2_s   full run handed to one / two real Celery worker processes (Redis broker)
- naive_s       per-indicator ORM loop (fetch, evaluate in Python, save each flag with its event in a
                transaction of its own) on a 1 % sample, scaled up to all series
- peak_rss_mb   peak resident memory of the process that ran the full check

It empties the case, signal, event, check-run and indicator tables of the database it is given: it refuses to
run unless the database name contains "bench" (or ``--i-know``). Prints a table and, last, one ``RESULT`` line."""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")  # no query log in memory

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks import embedded  # noqa: E402
from benchmarks.naive import naive_check  # noqa: E402
from benchmarks.synthetic import (  # noqa: E402
    FLOOR_SQL,
    PREVIOUS_FLOOR_SQL,
    SCRATCH_SQL,
    UPSERT_FLOOR_SQL,
    build_series,
    floor_params,
    upsert_floor_params,
)

START = dt.date(2019, 1, 1)
PY = sys.executable


def months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


# (indicator, rule, severity) of every active signal the check wrote; with ``{table}`` as the other side, how many
# rows differ (EXCEPT ALL both ways: a duplicate counts too).
ACTIVE = """SELECT f.indicator_id, s.rule_id, s.severity FROM escalations_signal s
            JOIN escalations_flag f ON f.id = s.flag_id WHERE s.cleared_at IS NULL"""
DIFFER = f"""WITH active AS ({ACTIVE}), other AS ({{other}})
    SELECT COUNT(*) FROM ((TABLE other EXCEPT ALL TABLE active) UNION ALL (TABLE active EXCEPT ALL TABLE other)) d"""
UPSERTED = """SELECT f.indicator_id, s.rule_id, s.severity FROM bench_signal s
              JOIN bench_flag f ON f.id = s.flag_id WHERE s.cleared_at IS NULL"""


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def timed(sql: str, params) -> float:
    with connection.cursor() as cursor:
        began = time.monotonic()
        cursor.execute(sql, params)
        return time.monotonic() - began


def reset_results() -> None:
    # escalations_signal would go with escalations_flag (CASCADE) anyway: named so that no reader wonders.
    execute(
        "TRUNCATE escalations_event, escalations_signal, escalations_flag, indicators_checkshard,"
        " indicators_checkrun CASCADE"
    )


def command(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run ``manage.py`` in a child process: (its wall-clock seconds, its peak RSS in MB)."""
    began = time.monotonic()
    proc = subprocess.Popen([PY, "manage.py", *args], cwd=ROOT, env={**os.environ, **(env or {})})
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024


def run_seconds() -> float:
    """The latest check run's duration as its ledger records it (``started_at`` → ``finished_at``): the check
    itself, without the start-up of the process that asked for it."""
    with connection.cursor() as cursor:
        cursor.execute(embedded.LATEST_RUN)
        started, finished = cursor.fetchone()
    return (finished - started).total_seconds()


def with_workers(n: int, as_of: dt.date) -> float:
    """A full run handed to n Celery worker processes (concurrency 1 each); its seconds in the ledger."""
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue}
    workers = [
        subprocess.Popen(
            [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "-n",
                f"{queue}-{i}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(n)
    ]
    try:
        time.sleep(6)  # let the workers connect before the clock starts
        command(["run_checks", "--full", "--workers", "--as-of", as_of.isoformat()], env)
        return run_seconds()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=60)
    parser.add_argument("--i-know", action="store_true", help="run on a database whose name lacks 'bench'")
    parser.add_argument("--skip-workers", action="store_true", help="skip the Celery measurements")
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="also run the full check on a SQLite copy of the series (eager, no Redis): embedded_s",
    )
    parser.add_argument(
        "--embedded-db",
        default=str(Path(tempfile.gettempdir()) / "percolate_bench_embedded.sqlite3"),
        help="the SQLite copy",
    )
    parser.add_argument("--keep-embedded-db", action="store_true", help="leave the SQLite copy in place")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the benchmark needs PostgreSQL: set DATABASE_URL")
    if "bench" not in connection.settings_dict["NAME"] and not args.i_know:
        raise SystemExit("refusing: this empties tables; use a database whose name contains 'bench'")
    n, m = args.series, args.periods
    as_of = months_after(START, m) - dt.timedelta(days=1)  # the last day of the last period
    rows = []

    def note(name: str, value, unit: str = "s") -> None:
        rows.append((name, value, unit))
        print(f"  {name:<24} {value:>12.2f} {unit}" if isinstance(value, float) else f"  {name:<24} {value:>12} {unit}")

    call_command("migrate", verbosity=0)
    print(f"building {n} series × {m} periods …")
    began = time.monotonic()
    build_series(n=n, m=m, start=START)
    note("build_s", time.monotonic() - began)
    reset_results()

    full_process_s, rss = command(["run_checks", "--full", "--as-of", as_of.isoformat()])
    full_s = run_seconds()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM escalations_flag")
        cases = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM escalations_signal")
        signals = cursor.fetchone()[0]
    note("full_s", full_s)
    note("full_process_s", full_process_s)
    note("cases", cases, "")
    note("signals", signals, "")
    note("peak_rss_mb", rss, "MB")

    # The floors, each timed alone on the same warm data: the previous statement, the floor, the upsert floor.
    execute("DROP TABLE IF EXISTS bench_floor")
    previous_floor_s = timed(PREVIOUS_FLOOR_SQL, floor_params(as_of))
    note("previous_floor_s", previous_floor_s)
    execute("DROP TABLE IF EXISTS bench_floor")
    floor_s = timed(FLOOR_SQL, floor_params(as_of))
    floor_breaches = scalar("SELECT COUNT(*) FROM bench_floor")
    # The floor must find the same breaches: (indicator, rule, severity) against the active signals written
    # (one per breaching rule, on its indicator's case).
    differences = scalar(DIFFER.format(other="SELECT indicator_id, rule_id, severity FROM bench_floor"))
    note("floor_s", floor_s)
    note("floor_breaches", floor_breaches, "")
    note("floor_vs_signals_differ", differences, "")
    for statement in SCRATCH_SQL:  # empty scratch tables shaped like the real ones, as the full check started
        execute(statement)
    upsert_floor_s = timed(UPSERT_FLOOR_SQL, upsert_floor_params(as_of))
    note("upsert_floor_s", upsert_floor_s)
    note("upsert_floor_cases", scalar("SELECT COUNT(*) FROM bench_flag"), "")
    note("upsert_vs_signals_differ", scalar(DIFFER.format(other=UPSERTED)), "")
    execute("DROP TABLE bench_signal, bench_flag, bench_floor")

    embedded_s = embedded_process_s = float("nan")
    if args.embedded:
        db = Path(args.embedded_db)
        note("embedded_build_s", embedded.build(db))
        embedded_s, embedded_process_s = embedded.run_full(db, as_of.isoformat())
        note("embedded_s", embedded_s)
        note("embedded_process_s", embedded_process_s)
        with connection.cursor() as cursor:
            cursor.execute(ACTIVE)
            on_postgres = Counter(cursor.fetchall())
        on_sqlite = Counter(embedded.active_signals(db))
        embedded_differ = sum(((on_postgres - on_sqlite) + (on_sqlite - on_postgres)).values())
        note("embedded_vs_signals_differ", embedded_differ, "")
        if not args.keep_embedded_db:
            db.unlink(missing_ok=True)

    noop_process_s, _ = command(["run_checks", "--as-of", as_of.isoformat()])
    noop_s = run_seconds()
    note("noop_s", noop_s)
    note("noop_process_s", noop_process_s)

    # 1 % of the series get the next period (as an import would record it), checked a month later.
    execute(
        """INSERT INTO indicators_measurement (indicator_id, period, value, preliminary, batch_id, updated_at)
           SELECT m.indicator_id, %s, m.value * 0.9, false, NULL, now()
           FROM indicators_measurement m WHERE m.period = %s AND m.indicator_id %% 100 = 7""",
        [months_after(START, m), months_after(START, m - 1)],
    )
    execute(
        "UPDATE indicators_indicator SET data_changed_at = now(), reported_through = %s WHERE id %% 100 = 7",
        [months_after(START, m)],
    )
    next_as_of = months_after(START, m + 1) - dt.timedelta(days=1)
    new1pct_process_s, _ = command(["run_checks", "--as-of", next_as_of.isoformat()])
    new1pct_s = run_seconds()
    note("new1pct_s", new1pct_s)
    note("new1pct_process_s", new1pct_process_s)

    workers1_s = workers2_s = float("nan")
    if not args.skip_workers and os.environ.get("REDIS_URL"):
        reset_results()
        workers1_s = with_workers(1, next_as_of)
        note("workers1_s", workers1_s)
        reset_results()
        workers2_s = with_workers(2, next_as_of)
        note("workers2_s", workers2_s)

    reset_results()
    sample = max(1, n // 100)
    began = time.monotonic()
    naive_check(sample=sample, as_of=next_as_of)
    naive_sample_s = time.monotonic() - began
    reset_results()
    naive_s = naive_sample_s * n / sample
    note("naive_s (scaled)", naive_s)

    print()
    print(f"{'measure':<24} {'value':>12}")
    for name, value, unit in rows:
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{name:<24} {shown:>12} {unit}")
    print(
        f"RESULT series={n} periods={m} full_s={full_s:.2f} floor_s={floor_s:.2f} "
        f"full_vs_floor={full_s / floor_s:.2f} upsert_floor_s={upsert_floor_s:.2f} "
        f"full_vs_upsert_floor={full_s / upsert_floor_s:.2f} previous_floor_s={previous_floor_s:.2f} "
        f"floor_vs_signals_differ={differences} embedded_s={embedded_s:.2f} "
        f"embedded_vs_full={embedded_s / full_s:.2f} noop_vs_full={noop_s / full_s:.3f} "
        f"new1pct_vs_full={new1pct_s / full_s:.3f} two_workers_vs_one={workers2_s / workers1_s:.2f} "
        f"naive_vs_full={naive_s / full_s:.1f} peak_rss_mb={rss:.0f} full_process_s={full_process_s:.2f} "
        f"noop_process_s={noop_process_s:.2f} new1pct_process_s={new1pct_process_s:.2f} "
        f"embedded_process_s={embedded_process_s:.2f}"
    )


if __name__ == "__main__":
    main()
