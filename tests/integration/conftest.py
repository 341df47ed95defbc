"""Fixtures and helpers for tests against real services: Redis as the broker, PostgreSQL, and
``celery -A config worker`` processes started by the test. Skipped without REDIS_URL and PostgreSQL (a failure
when REQUIRE_SERVICES=1)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app

from ..conftest import require_service

CELERY = str(Path(sys.executable).with_name("celery"))


def _redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def queue(db):
    require_service("Redis (REDIS_URL)", _redis_available())
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    # One queue per test: parallel test processes (xdist) never take each other's tasks.
    name = f"percolate-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(name)


@pytest.fixture
def workers(queue, tmp_path):
    """workers(n=1, **env) → start n worker processes on this test's queue and database; all are killed
    (process group, SIGKILL) at the end."""
    started: list[subprocess.Popen] = []
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )

    def start(n: int = 1, **extra) -> list[subprocess.Popen]:
        procs = []
        for _ in range(n):
            env = {
                # The worker logs through the settings' LOGGING, whose level is LOG_LEVEL (not `-l`).
                "LOG_LEVEL": "INFO",
                **os.environ,
                "DATABASE_URL": database_url,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "CELERY_TASK_DEFAULT_QUEUE": queue,
                "CELERY_VISIBILITY_TIMEOUT": "10",
                "PERCOLATE_CHECK_SHARD_TIME_LIMIT": "8",
                "PERCOLATE_CHECK_STUCK_AFTER": "3",
                "PERCOLATE_CHECK_SHARD_SIZE": "10",
                **{key: str(value) for key, value in extra.items()},
            }
            number = len(started) + 1
            log = open(tmp_path / f"worker{number}.log", "w")  # noqa: SIM115 (closed with the process)
            proc = subprocess.Popen(
                [
                    CELERY,
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    queue,
                    "-c",
                    "1",
                    "-n",
                    f"{queue}-{number}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "info",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append(proc)
            procs.append(proc)
        return procs

    yield start
    for proc in started:
        kill(proc)
    for log in sorted(tmp_path.glob("worker*.log")):
        print(f"---- {log.name}\n{log.read_text()[-4000:]}")


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool children: no chance to acknowledge or clean up anything."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def send(queue: str, name: str, *args, broker_url: str | None = None) -> None:
    """Put a task on the queue (of this settings' broker, or of ``broker_url``)."""
    if broker_url is None:
        app.send_task(name, args=list(args), queue=queue)
        return
    with app.connection_for_write(broker_url) as conn:
        app.send_task(name, args=list(args), queue=queue, connection=conn)


def wait_for(condition, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, without persistence: a restart loses every queued message."""

    def __init__(self, port: int, folder):
        self.port, self.folder = port, folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server to start")

    def _answers(self) -> bool:
        with contextlib.suppress(redis.RedisError):
            return redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
        return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    require_service("redis-server", shutil.which("redis-server") is not None)
    server = OwnRedis(spare_port(), tmp_path)
    server.start()
    yield server
    server.stop()


# Reaching any flag status through the services, as the escalations tests do.
from ..escalations.conftest import ctx, flag_in  # noqa: E402, F401
