"""Upload benchmark: how long ``POST /api/v1/imports/`` takes to answer a ~100 MB file (``202``: stored
deflated, imported by a worker), over real HTTP to gunicorn as production runs it, and — with ``--follow`` — a
Celery worker importing it while ``GET /api/v1/import-uploads/{id}/`` shows its progress.

    createdb -h 127.0.0.1 -U postgres percolate_bench_upload
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/percolate_bench_upload REDIS_URL=redis://127.0.0.1:6379/8 \\
      .venv/bin/python benchmarks/bench_upload.py [--repeat 3] [--follow]

Needs PostgreSQL and Redis (without ``REDIS_URL`` the import would run inside the request, as in the embedded
mode). Use a scratch database: each measured upload is deleted again unless ``--follow`` imports the last one.
Prints one ``RESULT size_mb=… seconds=… status=…`` line per upload (the time from the first byte sent to the
answer, the body streamed from disk), then ``RESULT best=… median=…``."""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_import import generate  # noqa: E402

USER = "bench-upload-lead"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on port {port} within {seconds:.0f} s")


def post_file(port: int, token: str, path: Path) -> tuple[float, int, dict]:
    """(seconds, status, JSON body) of one multipart POST whose file part is streamed from disk."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def body():
        yield head
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk
        yield tail

    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/imports/",
        body=body(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        },
    )
    response = connection.getresponse()
    payload = response.read()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, response.status, json.loads(payload or b"{}")


def get_json(port: int, token: str, url: str) -> dict:
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", url, headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=3850, help="3,850 × 120 months: about 100 MB")
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--follow", action="store_true", help="start a worker and follow the last upload to its end")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL: see the docstring")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from knox.models import AuthToken

    from indicators.models import ImportUpload
    from indicators.services import role_grant

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username=USER)
    role_grant(username=USER, role="ops_lead")
    token = AuthToken.objects.create(user=user)[1]
    ImportUpload.objects.filter(uploaded_by=user, status__in=("queued", "running")).delete()  # an earlier run's

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "0"}
    port = free_port()
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        wait_for(port)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "mmr-open-data-long.csv"
            started = time.perf_counter()
            rows = generate(path, indicators=args.indicators, months=args.months, first_fiscal_year=2010)
            size_mb = path.stat().st_size / 1e6
            print(f"generated {rows:,} rows, {size_mb:,.0f} MB in {time.perf_counter() - started:.1f} s")
            get_json(port, token, "/api/v1/import-uploads/")  # a first request: the worker's imports are done
            times = []
            for n in range(args.repeat):
                seconds, status, payload = post_file(port, token, path)
                times.append(seconds)
                print(f"RESULT size_mb={size_mb:.0f} seconds={seconds:.2f} status={status}", flush=True)
                if status != 202:
                    raise SystemExit(f"expected 202, got {status}: {payload}")
                if not (args.follow and n == args.repeat - 1):
                    ImportUpload.objects.filter(pk=payload["id"]).delete()
            median = statistics.median(times)
            print(f"RESULT best={min(times):.2f} median={median:.2f} (seconds, {args.repeat} uploads)")

            if args.follow:
                worker = subprocess.Popen(
                    [str(bin_dir / "celery"), "-A", "config", "worker", "-c", "1", "--loglevel", "WARNING"],
                    cwd=ROOT,
                    env=env,
                )
                started = time.perf_counter()
                while True:
                    state = get_json(port, token, f"/api/v1/import-uploads/{payload['id']}/")
                    print(
                        f"  {time.perf_counter() - started:5.0f} s: {state['status']}, "
                        f"{state['rows_done']:,} of about {state['rows_total']:,} rows",
                        flush=True,
                    )
                    if state["status"] in ("done", "failed"):
                        break
                    time.sleep(5)
                print(f"RESULT imported status={state['status']} seconds={time.perf_counter() - started:.0f}")
    finally:
        for process in (worker, web):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
