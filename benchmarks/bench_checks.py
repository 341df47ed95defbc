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
                transaction of its own) on a 1 % sample, scaled up to all series, run right before each full
                check: both figures of naive_vs_full come from the same minute
- peak_rss_mb   peak resident memory of the process that ran the full check (its own: ``command``)

Each timed figure but noop_s and new1pct_s (which change the data) is the median of --repeat runs (3 unless
told), every run's figure printed; each full check starts from the state the build left (``as_built``).

It empties the case, signal, event, check-run and indicator tables of the database it is given: it refuses to
run unless the database name contains "bench" (or ``--i-know``). Prints a table and, last, one ``RESULT`` line."""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
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
    """Run ``manage.py`` in a child process: (its wall-clock seconds, its peak RSS in MB).

    The peak is the child's own: the high-water mark of its program's memory (``VmHWM``), read every 20 ms while
    it runs. The kernel's ``ru_maxrss`` would not do: it counts the pages the child shares with this process
    between its start and its ``exec``, so it is never below this process's own size, however small the child
    (here the naive loop's sample makes this process a few hundred MB at a million series)."""
    began = time.monotonic()
    proc = subprocess.Popen([PY, "manage.py", *args], cwd=ROOT, env={**os.environ, **(env or {})})
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _high_water_kb(proc.pid))
        time.sleep(0.02)
    seconds = time.monotonic() - began
    if proc.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return seconds, peak_kb / 1024


def _high_water_kb(pid: int) -> int:
    """A running process's peak resident memory so far, in kB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_seconds() -> float:
    """The latest check run's duration as its ledger records it (``started_at`` → ``finished_at``): the check
    itself, without the start-up of the process that asked for it."""
    with connection.cursor() as cursor:
        cursor.execute(embedded.LATEST_RUN)
        started, finished = cursor.fetchone()
    return (finished - started).total_seconds()


def as_built() -> None:
    """The state a first full check meets after the build: no cases, no colours yet, the indicators' table
    vacuumed, and every page the build or an earlier run wrote already on disk (no checkpoint under way)."""
    reset_results()
    execute("UPDATE indicators_indicator SET rag = '', rag_since = NULL WHERE rag <> ''")
    execute("VACUUM ANALYZE indicators_indicator")
    execute("CHECKPOINT")
    os.sync()


def repeated(names: tuple[str, ...], runs: int, measure: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    """Run ``measure`` (which returns the figures ``names``) ``runs`` times; print every run's figures; return
    their medians."""
    results = [measure() for _ in range(runs)]
    medians = []
    for name, figures in zip(names, zip(*results, strict=True), strict=True):
        print(f"    {name} runs: {' '.join(f'{v:.2f}' for v in figures)}")
        medians.append(statistics.median(figures))
    return tuple(medians)


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


class Report:
    """The figures measured so far: each printed as it comes, the table and the ``RESULT`` line at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self.values: dict[str, float] = {}

    def note(self, name: str, value: float, unit: str = "s") -> None:
        self.rows.append((name, value, unit))
        self.values[name] = value
        print("  " + self.line(name, value, unit))

    @staticmethod
    def line(name: str, value: float, unit: str) -> str:
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        return f"{name:<24} {shown:>12} {unit}"

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, float("nan"))


def measure_full(report: Report, as_of: dt.date, n: int, repeat: int) -> None:
    """The full check, each run from the state the build left, and right before each run the naive loop on a 1 %
    sample (scaled up to all series): both figures of ``naive_vs_full`` come from the same minute of each round.
    The machine's speed drifts over the minutes a benchmark takes (the same full check took 7.6–8.1 s, then
    10.4–11.1 s a few minutes later), and a ratio of two figures taken ten minutes apart would carry that drift.
    The last run's cases stay, for the floors."""
    peaks: list[float] = []
    sample = max(1, n // 100)

    def naive_then_full() -> tuple[float, float, float]:
        reset_results()
        began = time.monotonic()
        naive_check(sample=sample, as_of=as_of)
        naive_s = (time.monotonic() - began) * n / sample
        as_built()
        process_s, peak = command(["run_checks", "--full", "--as-of", as_of.isoformat()])
        peaks.append(peak)
        return naive_s, run_seconds(), process_s

    naive_s, full_s, full_process_s = repeated(
        ("naive_s (scaled)", "full_s", "full_process_s"), repeat, naive_then_full
    )
    report.note("full_s", full_s)
    report.note("full_process_s", full_process_s)
    report.note("naive_s (scaled)", naive_s)
    report.note("cases", scalar("SELECT COUNT(*) FROM escalations_flag"), "")
    report.note("signals", scalar("SELECT COUNT(*) FROM escalations_signal"), "")
    report.note("peak_rss_mb", max(peaks), "MB")


def measure_floors(report: Report, as_of: dt.date, repeat: int) -> None:
    """The floors, each timed alone on the same warm data: the previous statement, the floor, the upsert floor."""

    def floor(sql: str) -> Callable[[], tuple[float]]:
        def once() -> tuple[float]:
            execute("DROP TABLE IF EXISTS bench_floor")
            return (timed(sql, floor_params(as_of)),)

        return once

    def upsert_floor() -> tuple[float]:
        for statement in SCRATCH_SQL:  # empty scratch tables shaped like the real ones, as the full check started
            execute(statement)
        return (timed(UPSERT_FLOOR_SQL, upsert_floor_params(as_of)),)

    report.note("previous_floor_s", repeated(("previous_floor_s",), repeat, floor(PREVIOUS_FLOOR_SQL))[0])
    report.note("floor_s", repeated(("floor_s",), repeat, floor(FLOOR_SQL))[0])
    report.note("floor_breaches", scalar("SELECT COUNT(*) FROM bench_floor"), "")
    # The floor must find the same breaches: (indicator, rule, severity) against the active signals written
    # (one per breaching rule, on its indicator's case).
    differences = scalar(DIFFER.format(other="SELECT indicator_id, rule_id, severity FROM bench_floor"))
    report.note("floor_vs_signals_differ", differences, "")
    report.note("upsert_floor_s", repeated(("upsert_floor_s",), repeat, upsert_floor)[0])
    report.note("upsert_floor_cases", scalar("SELECT COUNT(*) FROM bench_flag"), "")
    report.note("upsert_vs_signals_differ", scalar(DIFFER.format(other=UPSERTED)), "")
    execute("DROP TABLE bench_signal, bench_flag, bench_floor")


def measure_embedded(report: Report, as_of: dt.date, repeat: int, built: Path, keep: bool) -> None:
    """The same full check on a SQLite copy (``built``), each run on a fresh copy of it."""
    report.note("embedded_build_s", embedded.build(built))
    db = built.with_name(built.stem + "-run" + built.suffix)

    def embedded_check() -> tuple[float, float]:
        embedded.copy(built, db)
        return embedded.run_full(db, as_of.isoformat())

    embedded_s, embedded_process_s = repeated(("embedded_s", "embedded_process_s"), repeat, embedded_check)
    report.note("embedded_s", embedded_s)
    report.note("embedded_process_s", embedded_process_s)
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE)
        on_postgres = Counter(cursor.fetchall())
    on_sqlite = Counter(embedded.active_signals(db))
    report.note("embedded_vs_signals_differ", sum(((on_postgres - on_sqlite) + (on_sqlite - on_postgres)).values()), "")
    if not keep:
        for path in (built, db):
            embedded.remove(path)


def measure_incremental(report: Report, as_of: dt.date, m: int) -> dt.date:
    """An incremental run with no new data, then one after 1 % of the series got the next period (as an import
    would record it), checked a month later. Returns that later date."""
    report.note("noop_process_s", command(["run_checks", "--as-of", as_of.isoformat()])[0])
    report.note("noop_s", run_seconds())
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
    report.note("new1pct_process_s", command(["run_checks", "--as-of", next_as_of.isoformat()])[0])
    report.note("new1pct_s", run_seconds())
    return next_as_of


def measure_workers(report: Report, as_of: dt.date, repeat: int) -> None:
    def one_then_two() -> tuple[float, float]:
        reset_results()
        one = with_workers(1, as_of)
        reset_results()
        return one, with_workers(2, as_of)

    workers1_s, workers2_s = repeated(("workers1_s", "workers2_s"), repeat, one_then_two)
    report.note("workers1_s", workers1_s)
    report.note("workers2_s", workers2_s)


def result_line(report: Report, n: int, m: int, repeat: int) -> str:
    r = report
    full = r["full_s"]
    return (
        f"RESULT series={n} periods={m} repeat={repeat} full_s={full:.2f} floor_s={r['floor_s']:.2f} "
        f"full_vs_floor={full / r['floor_s']:.2f} upsert_floor_s={r['upsert_floor_s']:.2f} "
        f"full_vs_upsert_floor={full / r['upsert_floor_s']:.2f} previous_floor_s={r['previous_floor_s']:.2f} "
        f"floor_vs_signals_differ={r['floor_vs_signals_differ']} embedded_s={r['embedded_s']:.2f} "
        f"embedded_vs_full={r['embedded_s'] / full:.2f} noop_vs_full={r['noop_s'] / full:.3f} "
        f"new1pct_vs_full={r['new1pct_s'] / full:.3f} two_workers_vs_one={r['workers2_s'] / r['workers1_s']:.2f} "
        f"naive_vs_full={r['naive_s (scaled)'] / full:.1f} peak_rss_mb={r['peak_rss_mb']:.0f} "
        f"full_process_s={r['full_process_s']:.2f} noop_process_s={r['noop_process_s']:.2f} "
        f"new1pct_process_s={r['new1pct_process_s']:.2f} embedded_process_s={r['embedded_process_s']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=60)
    parser.add_argument(
        "--repeat", type=int, default=3, help="run each timed measurement this many times; report the medians"
    )
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
    n, m, repeat = args.series, args.periods, args.repeat
    as_of = months_after(START, m) - dt.timedelta(days=1)  # the last day of the last period
    report = Report()

    call_command("migrate", verbosity=0)
    print(f"building {n} series × {m} periods …")
    began = time.monotonic()
    build_series(n=n, m=m, start=START)
    report.note("build_s", time.monotonic() - began)
    measure_full(report, as_of, n, repeat)
    measure_floors(report, as_of, repeat)
    if args.embedded:
        measure_embedded(report, as_of, repeat, Path(args.embedded_db), args.keep_embedded_db)
    next_as_of = measure_incremental(report, as_of, m)
    if not args.skip_workers and os.environ.get("REDIS_URL"):
        measure_workers(report, next_as_of, repeat)

    print()
    print(f"{'measure':<24} {'value':>12}")
    for row in report.rows:
        print(Report.line(*row))
    print(result_line(report, n, m, repeat))


if __name__ == "__main__":
    main()
