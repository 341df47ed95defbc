"""The nightly job on real services: Redis as the broker, PostgreSQL, and ``celery -A config worker``
processes started here. Skipped without REDIS_URL and PostgreSQL (a failure when REQUIRE_SERVICES=1)."""

import contextlib
import datetime as dt
import os
import signal
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
from escalations.audit import audit_chain_verify
from escalations.models import Event, Flag
from indicators.detection import evaluate
from indicators.models import CheckRun, CheckShard, Direction, RuleKind

from ..conftest import require_service

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # This process stays eager for its own tasks; send_task goes to the broker, which is what we want here.
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]

AS_OF = dt.date(2022, 10, 31)
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


def send(queue: str, name: str, *args) -> None:
    app.send_task(name, args=list(args), queue=queue)


def wait_for(condition, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def data(series, only_rule):
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 10)
    for i in range(45):
        series([100, 100 - i % 9], desired_direction=Direction.UP if i % 4 else Direction.DOWN)
    expected = {(b.indicator_id, b.rule_id, b.severity) for b in evaluate(lo_id=0, hi_id=10**12, as_of=AS_OF).breaches}
    assert len(expected) > 20
    return expected


def _flags() -> set[tuple]:
    return set(Flag.objects.values_list("indicator_id", "rule_id", "severity"))


def _run_finished() -> CheckRun | None:
    run = CheckRun.objects.filter(as_of=AS_OF).first()
    return run if run and run.status != "running" else None


def _assert_exactly(expected: set[tuple]) -> None:
    assert _flags() == expected
    assert Flag.objects.count() == len(expected)  # no duplicates
    assert Event.objects.count() == len(expected)  # one flag.detected each, nothing twice
    assert audit_chain_verify() is None


def test_nightly_job_delivered_twice_opens_the_same_flags_as_once(queue, workers, data):
    workers(2)
    send(queue, "escalations.tasks.nightly_checks", AS_OF.isoformat())
    send(queue, "escalations.tasks.nightly_checks", AS_OF.isoformat())
    run = wait_for(_run_finished, what="the run to finish")
    assert (run.status, run.shards_done, run.shards_total) == ("succeeded", 5, 5)
    time.sleep(2)  # let the second delivery (and any duplicate shard) be consumed
    assert CheckRun.objects.count() == 1
    _assert_exactly(data)


def test_a_worker_killed_mid_run_leaves_no_missing_and_no_duplicate_flags(queue, workers, data):
    (victim,) = workers(1, PERCOLATE_CHECK_TEST_PAUSE_SECONDS=2)
    send(queue, "escalations.tasks.nightly_checks", AS_OF.isoformat())
    # Wait until the worker is inside a shard's transaction (attempt counted, not committed), then kill it.
    wait_for(
        lambda: (
            CheckShard.objects.filter(status="running", run__as_of=AS_OF).exists()
            and CheckShard.objects.filter(status="done").count() >= 1
        ),
        what="a shard in progress",
    )
    kill(victim)
    run = CheckRun.objects.get(as_of=AS_OF)
    assert run.status == "running" and run.shards_done < run.shards_total
    workers(1)
    # Beat's periodic sweep finds the shard the dead worker held; Redis also redelivers its unacknowledged
    # message once the visibility timeout passes. Either way the shard runs once.
    time.sleep(4)
    send(queue, "escalations.tasks.sweep_check_shards")
    run = wait_for(_run_finished, what="the run to finish after redelivery")
    assert (run.status, run.shards_done, run.shards_total) == ("succeeded", 5, 5)
    assert CheckShard.objects.filter(attempts__gt=1).exists()  # the killed shard ran again
    _assert_exactly(data)
