"""Structured logs: what a JSON line holds, and which request it belongs to."""

import copy
import datetime as dt
import json
import logging
import re
from logging.config import DictConfigurator

import pytest
from django.conf import settings

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event
from escalations.tasks import notify_event
from indicators.services import role_grant

from .factories import AgencyFactory, FlagFactory, UserFactory


class Lines(logging.Handler):
    """Keeps each record as the console handler of the settings writes it: same filter, same formatter."""

    def __init__(self, formatter: str):
        super().__init__()
        configurator = DictConfigurator(copy.deepcopy(settings.LOGGING))
        self.addFilter(configurator.configure_filter(configurator.config["filters"]["request"]))
        self.setFormatter(configurator.configure_formatter(configurator.config["formatters"][formatter]))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def log_lines():
    """log_lines(formatter="json") → a handler that keeps every line logged at INFO and above, written by
    that formatter of the settings, until the test ends."""
    root, handlers, level = logging.getLogger(), [], logging.getLogger().level

    def capture(formatter: str = "json") -> Lines:
        handler = Lines(formatter)
        handlers.append(handler)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        return handler

    yield capture
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def test_every_extra_key_is_in_the_json_line(log_lines):
    lines = log_lines()
    logging.getLogger("percolate.test").info(
        "imported %s rows",
        3,
        extra={"indicator": 7, "agency": "DSNY", "periods": ["2024-07", "2024-08"], "as_of": dt.date(2025, 1, 31)},
    )
    [line] = lines.json()
    assert line["message"] == "imported 3 rows"
    assert (line["level"], line["logger"]) == ("INFO", "percolate.test")
    assert dt.datetime.strptime(line["time"], "%Y-%m-%dT%H:%M:%S%z")
    assert (line["request_id"], line["user"], line["path"]) == ("-", "-", "-")  # outside any request
    assert line["indicator"] == 7 and line["agency"] == "DSNY" and line["periods"] == ["2024-07", "2024-08"]
    assert line["as_of"] == "2025-01-31"
    assert "exception" not in line


def test_an_exception_is_in_the_json_line_with_its_traceback(log_lines):
    lines = log_lines()
    try:
        int("twelve")
    except ValueError:
        logging.getLogger("percolate.test").exception("could not read the value", extra={"row": 12})
    [line] = lines.json()
    assert line["level"] == "ERROR" and line["row"] == 12
    assert line["exception"].startswith("Traceback") and "invalid literal for int()" in line["exception"]


def test_the_text_format_shows_the_request_id_and_user(log_lines):
    lines = log_lines("text")
    logging.getLogger("percolate.test").warning("for people", extra={"ignored": "by the text format"})
    [line] = lines.lines
    assert line.endswith("WARNING percolate.test [- -] for people")


@pytest.mark.django_db
def test_actions_are_logged_with_request_id_user_and_action(client, log_lines):
    """One JSON line per flag action, carrying the request id, the user, the path and the action."""
    agency = AgencyFactory()
    liaison = UserFactory(username="logged")
    role_grant(username="logged", role=Role.LIAISON, agencies=[agency.code])
    flag = FlagFactory(indicator__agency=agency)
    client.force_login(liaison)
    lines = log_lines()
    response = client.post(
        f"/api/v1/flags/{flag.pk}/review/", {}, content_type="application/json", HTTP_X_REQUEST_ID="req-42"
    )
    assert response.status_code == 200 and response.json()["status"] == FlagStatus.IN_REVIEW
    assert response["X-Request-ID"] == "req-42"
    [line] = [line for line in lines.json() if line.get("action") == "review"]
    assert (line["request_id"], line["user"], line["path"]) == ("req-42", "logged", f"/api/v1/flags/{flag.pk}/review/")
    assert line["flag"] == flag.pk


@pytest.mark.django_db(transaction=True)  # the outbox's dispatcher is kicked when the action commits, in the request
def test_a_task_sent_while_serving_a_request_logs_with_the_request_id_and_user(client, liaison, agency, log_lines):
    flag = FlagFactory(indicator__agency=agency)
    client.force_login(liaison)
    lines = log_lines()
    response = client.post(
        f"/api/v1/flags/{flag.pk}/review/", {}, content_type="application/json", HTTP_X_REQUEST_ID="req-7"
    )
    assert response.status_code == 200
    [task_line] = [line for line in lines.json() if line["logger"] == "escalations.services.outbox"]
    assert (task_line["request_id"], task_line["user"]) == ("req-7", "liaison")
    assert (task_line["task"], task_line["delivered"]) == ("escalations.tasks.dispatch_outbox", 1)
    # The action's own line is written after the task ran: the request's context is back, the task's is gone.
    [action_line] = [line for line in lines.json() if line.get("action") == "review"]
    assert (action_line["request_id"], action_line["path"]) == ("req-7", f"/api/v1/flags/{flag.pk}/review/")
    assert "task" not in action_line


@pytest.mark.django_db
def test_tasks_sent_outside_a_request_get_a_fresh_id_each_run(liaison, agency, log_lines):
    """A beat job or a command: each run's lines share an id of their own, and nothing outlives the run."""
    flag = services.flag_review(flag=FlagFactory(indicator__agency=agency), actor=liaison)
    event = Event.objects.get(flag=flag, verb="flag.reviewed")
    lines = log_lines()
    notify_event.delay(event.pk)
    notify_event.delay(event.pk)
    logging.getLogger("percolate.test").warning("after the tasks")
    *task_lines, after = lines.json()
    ids = {line["task_id"]: line["request_id"] for line in task_lines}
    assert len(ids) == 2 and len(set(ids.values())) == 2  # Celery's own lines too, each with its run's id
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids.values())
    assert all(ids[line["task_id"]] == line["request_id"] and line["user"] == "-" for line in task_lines)
    assert (after["request_id"], after["user"]) == ("-", "-") and "task" not in after
