"""The nightly job on real services: Redis as the broker, PostgreSQL, and ``celery -A config worker``
processes started here. Skipped without REDIS_URL and PostgreSQL (a failure when REQUIRE_SERVICES=1)."""

import datetime as dt
import time

import pytest

from escalations.audit_trail import audit_chain_verify
from escalations.models import Event, Flag, Signal
from indicators.detection import evaluate
from indicators.models import CheckRun, CheckShard, Direction, RuleKind

from .conftest import kill, send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # This process stays eager for its own tasks; send_task goes to the broker, which is what we want here.
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]

AS_OF = dt.date(2022, 10, 31)


@pytest.fixture
def data(series, only_rule):
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 10)
    for i in range(45):
        series([100, 100 - i % 9], desired_direction=Direction.UP if i % 4 else Direction.DOWN)
    expected = {(b.indicator_id, b.rule_id, b.severity) for b in evaluate(lo_id=0, hi_id=10**12, as_of=AS_OF).breaches}
    assert len(expected) > 20
    return expected


def _flags() -> set[tuple]:
    return set(Signal.objects.values_list("flag__indicator_id", "rule_id", "severity"))


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
    # Each shard holds its transaction open 4 s, so the kill lands inside one even on a loaded machine.
    (victim,) = workers(1, PERCOLATE_CHECK_TEST_PAUSE_SECONDS=4)
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
