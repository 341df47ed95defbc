"""Faults on real services: Redis restarted in the middle of a nightly run. The test runs a redis-server of
its own on a spare port (``own_redis``), so the machine's Redis keeps serving everything else."""

import datetime as dt
import time

import pytest

from escalations.audit_trail import audit_chain_verify
from escalations.models import Event, Flag, Signal
from indicators.detection import evaluate
from indicators.models import CheckRun, CheckShard, Direction, RuleKind

from .conftest import send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]

AS_OF = dt.date(2022, 10, 31)


def test_redis_restarted_mid_run_the_run_completes_without_missing_or_duplicate_flags(
    queue, workers, own_redis, series, only_rule
):
    only_rule(RuleKind.YEAR_OVER_YEAR, 0, 10)
    for i in range(45):
        series([100, 100 - i % 9], desired_direction=Direction.UP if i % 4 else Direction.DOWN)
    expected = {(b.indicator_id, b.rule_id, b.severity) for b in evaluate(lo_id=0, hi_id=10**12, as_of=AS_OF).breaches}
    workers(1, REDIS_URL=own_redis.url, PERCOLATE_CHECK_TEST_PAUSE_SECONDS=1)
    send(queue, "escalations.tasks.nightly_checks", AS_OF.isoformat(), broker_url=own_redis.url)
    wait_for(lambda: CheckShard.objects.filter(status="done").exists(), what="a first shard done")

    own_redis.stop()  # every queued shard message is gone with it
    time.sleep(2)
    own_redis.start()
    assert CheckRun.objects.get(as_of=AS_OF).status == "running"

    # The worker reconnects by itself; beat's sweeper (sent here) re-queues the shards whose messages were lost.
    def finished():
        run = CheckRun.objects.get(as_of=AS_OF)
        if run.status == "running":
            send(queue, "escalations.tasks.sweep_check_shards", broker_url=own_redis.url)
            time.sleep(2)
            return None
        return run

    run = wait_for(finished, timeout=120, what="the run to finish after the restart")
    assert (run.status, run.shards_done, run.shards_total) == ("succeeded", 5, 5)
    assert set(Signal.objects.values_list("flag__indicator_id", "rule_id", "severity")) == expected
    assert Flag.objects.count() == len(expected) and Event.objects.count() == len(expected)
    assert audit_chain_verify() is None
