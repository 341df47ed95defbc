"""Log lines on a real worker: a task sent while serving a request is logged with that request's id and user,
in the worker's own JSON lines; a task sent outside any request with a fresh id of its own."""

import json
import os
import re

import pytest
import redis
from django.http import HttpResponse
from django.test import RequestFactory

from config.observability import REQUEST_ID_HEADER, USER_HEADER, RequestIdMiddleware
from escalations.lifecycle import FlagStatus
from escalations.models import Event

from .conftest import send, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]


def worker_lines(folder) -> list[dict]:
    """The JSON lines the workers wrote (their logs also hold Celery's start-up banner)."""
    lines = (line for path in folder.glob("worker*.log") for line in path.read_text().splitlines())
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_worker_logs_a_task_with_the_id_and_user_of_the_request_that_sent_it(
    queue, workers, flag_in, liaison, tmp_path
):
    event = Event.objects.filter(flag=flag_in(FlagStatus.IN_REVIEW)).latest("pk")

    def view(request):
        send(queue, "escalations.tasks.notify_event", event.pk)
        return HttpResponse()

    # A request through the project's middleware, as a view that sends a task serves it.
    request = RequestFactory().post("/flags/", HTTP_X_REQUEST_ID="req-worker-1")
    request.user = liaison
    assert RequestIdMiddleware(view)(request)["X-Request-ID"] == "req-worker-1"
    send(queue, "escalations.tasks.notify_event", event.pk)  # outside a request, as beat or a command sends

    messages = [json.loads(raw) for raw in redis.Redis.from_url(os.environ["REDIS_URL"]).lrange(queue, 0, -1)]
    assert sorted((m["headers"].get(REQUEST_ID_HEADER, ""), m["headers"].get(USER_HEADER, "")) for m in messages) == [
        ("", ""),
        ("req-worker-1", "liaison"),
    ]

    workers(1, LOG_LEVEL="INFO", LOG_FORMAT="json")  # whatever the environment running the tests says
    # Each run writes the task's line, then Celery's own ("succeeded in …").
    wait_for(lambda: len([line for line in worker_lines(tmp_path) if "task_id" in line]) >= 4, what="the runs' lines")
    task_lines = [line for line in worker_lines(tmp_path) if line["logger"] == "escalations.tasks"]
    [from_request] = [line for line in task_lines if line["user"] == "liaison"]
    [from_elsewhere] = [line for line in task_lines if line["user"] == "-"]
    assert from_request["request_id"] == "req-worker-1" and from_request["event"] == event.pk
    assert re.fullmatch(r"[0-9a-f]{32}", from_elsewhere["request_id"])
    assert {(line["task_id"], line["request_id"]) for line in worker_lines(tmp_path) if "task_id" in line} == {
        (from_request["task_id"], "req-worker-1"),
        (from_elsewhere["task_id"], from_elsewhere["request_id"]),
    }
