"""REST API benchmark (issue 5): latency and throughput of the API under 16 concurrent clients, against the
floor of a bare Django view, on PostgreSQL with 100,000 flags and their events.

    DATABASE_URL=postgres://… .venv/bin/python benchmarks/bench_api.py [--flags 100000] [--requests 800]

Loads the data once (bulk inserts; a second run reuses it, ``--reload`` starts over), starts gunicorn with
2 workers on a free loopback port, drives it with 16 client threads, stops it, prints a table and a last line
``RESULT p95_list_ms=… p95_list_vs_floor=… queries_per_list=… …``."""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.api_settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from escalations.audit_trail import GENESIS_HASH, Verb, event_hash  # noqa: E402
from escalations.lifecycle import FlagStatus  # noqa: E402
from escalations.models import Event, Flag, Signal  # noqa: E402
from indicators.models import Agency, Indicator, Portfolio, ThresholdRule  # noqa: E402
from indicators.services import role_grant  # noqa: E402

CLIENTS = 16
BENCH_PREFIX = "BENCH"
LEAD = "bench-lead"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(n_flags: int, reload: bool) -> None:
    """100,000 flags over 5,000 indicators of 50 agencies; about a third open (one per indicator and rule,
    as the database requires), the rest dismissed or resolved; one to three events each, hash-chained."""
    existing = Flag.objects.filter(indicator__external_id__startswith=BENCH_PREFIX).count()
    if existing >= n_flags and not reload:
        log(f"reusing {existing} benchmark flags")
        return
    log("loading benchmark data …")
    with transaction.atomic():
        Event.objects.all().delete()
        Flag.objects.all().delete()
        Indicator.objects.filter(external_id__startswith=BENCH_PREFIX).delete()
        Agency.objects.filter(code__startswith=BENCH_PREFIX).delete()
        Portfolio.objects.filter(code__startswith=BENCH_PREFIX).delete()
        portfolios = Portfolio.objects.bulk_create(
            [Portfolio(code=f"{BENCH_PREFIX}P{n}", name=f"Bench deputy mayor {n}") for n in range(8)]
        )
        agencies = Agency.objects.bulk_create(
            [
                Agency(code=f"{BENCH_PREFIX}{n}", name=f"Bench agency {n}", portfolio=portfolios[n % 8])
                for n in range(50)
            ]
        )
        indicators = Indicator.objects.bulk_create(
            [
                Indicator(
                    agency=agencies[n % 50],
                    external_id=f"{BENCH_PREFIX}{n}",
                    name=f"Bench indicator {n}",
                    desired_direction="up",
                    critical=n % 7 == 0,
                )
                for n in range(5000)
            ],
            batch_size=2000,
        )
        rules = list(ThresholdRule.objects.order_by("id")[:6])
        rng = random.Random(5)
        now = timezone.now()
        # Cases as detection makes them: at most one open per indicator, each with the signal of one rule.
        flags, rule_of, open_indicators = [], [], set()
        for n in range(n_flags):
            indicator, rule = indicators[n % 5000], rules[(n // 5000) % len(rules)]
            is_open = indicator.pk not in open_indicators and rng.random() < 0.35
            if is_open:
                open_indicators.add(indicator.pk)
                status = rng.choice(
                    [FlagStatus.DETECTED, FlagStatus.DETECTED, FlagStatus.IN_REVIEW, FlagStatus.ESCALATED]
                )
            else:
                status = rng.choice([FlagStatus.DISMISSED, FlagStatus.RESOLVED])
            detected = now - dt.timedelta(minutes=n_flags - n)  # ids follow detection order, as in production
            severity = rng.choice(["red", "yellow"])
            flags.append(
                Flag(
                    indicator=indicator,
                    severity=severity,
                    status=status,
                    beyond=Decimal("2"),
                    detected_at=detected,
                    closed_at=None if is_open else now,
                )
            )
            rule_of.append(rule)
        flags = Flag.objects.bulk_create(flags, batch_size=5000)
        Signal.objects.bulk_create(
            [
                Signal(
                    flag=flag,
                    rule=rule,
                    period=dt.date(2022, 7, 1),
                    value=Decimal("90"),
                    baseline=Decimal("100"),
                    change=Decimal("-0.1"),
                    measure=Decimal("10"),
                    unit="percent",
                    yellow=Decimal("5"),
                    red=Decimal("10"),
                    severity=flag.severity,
                    first_seen_at=flag.detected_at,
                    last_seen_at=flag.detected_at,
                    cleared_at=flag.closed_at,
                )
                for flag, rule in zip(flags, rule_of, strict=True)
            ],
            batch_size=5000,
        )
        log(f"  {len(flags)} cases ({len(open_indicators)} open), each with one signal")
        events, prev = [], GENESIS_HASH
        for flag in flags:
            verbs: list[tuple[str, str, str]] = [(Verb.FLAG_DETECTED, "", FlagStatus.DETECTED)]
            if flag.status != FlagStatus.DETECTED:
                verbs.append((Verb.FLAG_REVIEWED, FlagStatus.DETECTED, flag.status))
            for verb, before, after in verbs:
                event = Event(
                    occurred_at=flag.detected_at,
                    actor_label="nightly check",
                    verb=verb,
                    flag_id=flag.pk,
                    indicator_id=flag.indicator_id,
                    from_status=before,
                    to_status=after,
                    data={},
                    prev_hash=prev,
                )
                event.hash = prev = event_hash(event)
                events.append(event)
        Event.objects.bulk_create(events, batch_size=5000)
        log(f"  {len(events)} events")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def lead_token() -> str:
    user, _ = get_user_model().objects.get_or_create(username=LEAD)
    role_grant(username=LEAD, role="ops_lead")
    return AuthToken.objects.create(user=user)[1]


def queries_per_list(token: str) -> dict[int, int]:
    """SQL queries of one list request, at page sizes 10 and 500 (in process, same code as gunicorn runs)."""
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    counts = {}
    for size in (10, 500):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/flags/", {"open": "true", "page_size": size})
        assert response.status_code == 200, response.content[:300]
        counts[size] = len(queries)
    return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.api_settings", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def run(port: int, name: str, requests: int, make_request) -> dict:
    """``requests`` requests from 16 threads; each ``make_request(i)`` gives (method, path, body)."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            method, path, body = make_request(i)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
            started = time.perf_counter()
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            conn.close()
            with lock:
                latencies.append(elapsed)
                if response.status >= 300:
                    errors.append(f"{response.status} {path}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    if errors:
        log(f"{name}: {len(errors)} non-2xx responses, first: {errors[0]}")
    return {
        "name": name,
        "n": len(latencies),
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "rps": len(latencies) / wall,
        "errors": len(errors),
    }


def main() -> None:
    global TOKEN
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=800, help="requests per scenario")
    parser.add_argument("--reload", action="store_true", help="delete and reload the benchmark data")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("bench_api.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    load(args.flags, args.reload)
    TOKEN = lead_token()
    queries = queries_per_list(TOKEN)
    flag_ids = list(Flag.objects.filter(status__in=[FlagStatus.IN_REVIEW]).values_list("id", flat=True)[:5000])
    detected = list(Flag.objects.filter(status=FlagStatus.DETECTED).order_by("id").values_list("id", flat=True))
    if len(detected) < args.requests:
        raise SystemExit(f"only {len(detected)} detected flags left for the transition scenario: use --reload")
    connection.close()

    port = free_port()
    server = start_gunicorn(port)
    try:
        list_path = "/api/v1/flags/?open=true&page_size=50"
        run(port, "warm-up", 64, lambda i: ("GET", list_path, None))
        run(port, "warm-up", 64, lambda i: ("GET", "/bench/floor/flags/?page_size=50", None))
        results = [
            run(port, "GET flags/?open=true&page_size=50", args.requests, lambda i: ("GET", list_path, None)),
            run(
                port,
                "floor: bare Django view, same query",
                args.requests,
                lambda i: ("GET", "/bench/floor/flags/?page_size=50", None),
            ),
            run(
                port,
                "GET flags/{id}/",
                args.requests,
                lambda i: ("GET", f"/api/v1/flags/{flag_ids[i % len(flag_ids)]}/", None),
            ),
            run(
                port,
                "GET events/?page_size=100",
                args.requests,
                lambda i: ("GET", "/api/v1/events/?page_size=100", None),
            ),
            run(
                port,
                "POST flags/{id}/review/",
                args.requests,
                lambda i: ("POST", f"/api/v1/flags/{detected[i]}/review/", {}),
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    flags_total = Flag.objects.count()
    events_total = Event.objects.count()
    print(
        f"\nPercolate API on PostgreSQL: {flags_total} flags, {events_total} events; gunicorn 2 workers, "
        f"{CLIENTS} concurrent clients, {args.requests} requests per scenario\n"
    )
    print(f"{'scenario':40} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'errors':>7}")
    for r in results:
        print(f"{r['name']:40} {r['p50']:8.1f} {r['p95']:8.1f} {r['rps']:8.1f} {r['errors']:7d}")
    print(f"\nSQL queries per list request: page_size=10 → {queries[10]}, page_size=500 → {queries[500]}")
    api_list, floor, detail, events, transition = results
    print(
        f"RESULT p95_list_ms={api_list['p95']:.1f} p95_list_vs_floor={api_list['p95'] / floor['p95']:.2f} "
        f"queries_per_list={queries[10]} queries_per_list_500={queries[500]} p95_floor_ms={floor['p95']:.1f} "
        f"p95_detail_ms={detail['p95']:.1f} p95_events_ms={events['p95']:.1f} "
        f"p95_transition_ms={transition['p95']:.1f} rps_list={api_list['rps']:.1f} "
        f"errors={sum(r['errors'] for r in results)}"
    )


TOKEN = ""

if __name__ == "__main__":
    main()
