"""Page-weight benchmark (issue 15): how long the pages a person opens all day take to render on the demo
data, against the target "under 1 s" — the dashboard (``/``), the queue (``/flags/``, measured at the default
view it redirects to) and the what-Operations-did report (``/reports/operations/`` for every agency over the
past twelve months, as a Council hearing asks), each through Django's test client signed in as the demo's ops
lead.

    .venv/bin/python benchmarks/bench_pages.py [--runs 20]

Loads the demo data into a fresh SQLite file, as ``make run`` does (migrate, seed_demo, run_checks), unless
``DATABASE_URL`` names a database already loaded. Prints, per page, the median and 95th percentile of the
rendering time in ms, its size and its query count, and a last line ``RESULT dashboard_p95_ms=… …``. Times are
those of the whole request in process (middleware, views, templates), without a network or a browser."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 1000


@dataclass
class Figures:
    name: str
    path: str
    times_ms: list[float]
    queries: int
    kilobytes: float
    status: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def pages() -> list[tuple[str, str]]:
    """(name, path) of the pages measured; the report's query is the realistic one: every agency, a year."""
    from django.utils import timezone

    today = timezone.localdate()
    year_ago = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) else today
    return [
        ("dashboard", "/"),
        ("queue", "/flags/"),
        ("report", f"/reports/operations/?start={year_ago:%Y-%m-%d}&end={today:%Y-%m-%d}"),
    ]


def measure(client, name: str, path: str, runs: int) -> Figures:
    """Render ``path`` once to warm the caches (templates, the first connection), then ``runs`` times. A bare
    address that redirects to the page's default view (the queue's) is measured at that view."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(path)
    if first.status_code == 302:
        path = first["Location"]
        client.get(path)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return Figures(name, path, times, len(queries), len(response.content) / 1024, response.status_code)


def measure_pages(*, username: str = "lead", runs: int = 20) -> list[Figures]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return [measure(client, name, path, runs) for name, path in pages()]


def load_demo(*, migrate: bool = True) -> None:
    """What ``make run`` does before serving: the schema, the demo data and accounts, the first check."""
    from django.core.management import call_command

    from escalations.models import Flag

    if migrate:
        call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    if not Flag.objects.exists():
        call_command("run_checks", stdout=open(os.devnull, "w"))  # noqa: SIM115


def report(figures: list[Figures]) -> None:
    from escalations.models import Flag
    from indicators.models import Indicator

    print(f"demo data: {Indicator.objects.count():,} indicators, {Flag.objects.count():,} cases; target {TARGET_MS} ms")
    print(f"{'page':<10} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'kB':>7}  status  path")
    for f in figures:
        verdict = "ok" if f.p95_ms < TARGET_MS else "OVER"
        print(
            f"{f.name:<10} {f.median_ms:>10.0f} {f.p95_ms:>8.0f} {f.queries:>8} {f.kilobytes:>7.0f}  "
            f"{f.status} {verdict:<4} {f.path}"
        )
    print("RESULT " + " ".join(f"{f.name}_median_ms={f.median_ms:.0f} {f.name}_p95_ms={f.p95_ms:.0f} "
                               f"{f.name}_queries={f.queries}" for f in figures))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed renderings of each page")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        scratch = Path(tempfile.mkdtemp(prefix="percolate-pages-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # no debug toolbar, templates cached as in production
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    # Whitenoise's note that `collectstatic` has not run: the pages are measured, not their static files.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.perf_counter()
    load_demo()
    print(f"loaded the demo data in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report(measure_pages(runs=args.runs))


if __name__ == "__main__":
    main()
