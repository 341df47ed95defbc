"""Request ids and structured logs: every log line written while serving a request carries the request's id
(from ``X-Request-ID`` when a proxy set one, else a new one), the user and the path, and the id is echoed in
the response so a user's report can be matched to the server's logs.

The id follows the work into Celery: a task sent while serving a request carries the id and the user name in
its message headers, and the task's lines carry them too, so one id finds the request and everything it set
off (in the web process when tasks run eagerly, on any worker when they do not). A task sent outside a request
(beat, a management command) gets a fresh id for its run, shared by the tasks that run sends in turn.

The lines themselves are written by python-json-logger, configured in the settings' ``LOGGING``: the fields
set here, the time, level, logger, message and exception, and every ``extra=`` key of the call."""

import logging
import re
import uuid
from contextvars import ContextVar

from celery import signals

# What the log lines of the current request or task are about: ``request_id`` always; ``path`` and the
# ``request`` (whose user is read when a line is written, after authentication) while serving a request;
# ``user`` (a name), ``task`` and ``task_id`` while running a task.
_context: ContextVar[dict | None] = ContextVar("percolate_request", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Message headers of a task sent while serving a request (prefixed: Celery's own headers are bare words).
REQUEST_ID_HEADER = "percolate_request_id"
USER_HEADER = "percolate_user"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        context = {"request_id": request.id, "path": request.path, "request": request}
        token = _context.set(context)
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response["X-Request-ID"] = request.id
        return response


def _user_name(context: dict) -> str:
    if "user" in context:
        return context["user"]
    user = getattr(context.get("request"), "user", None)
    return user.get_username() if user is not None and getattr(user, "is_authenticated", False) else "-"


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``user`` and ``path`` to every record (``-`` outside a request or task), and
    ``task`` and ``task_id`` to the records of a task."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get() or {}
        record.request_id = context.get("request_id", "-")
        record.user = _user_name(context)
        record.path = context.get("path", "-")
        if "task" in context:
            record.task, record.task_id = context["task"], context["task_id"]
        return True


def task_headers_add(*, headers: dict, **_) -> None:
    """``before_task_publish``: put the current request's (or task's) id and user in the message headers."""
    context = _context.get()
    if context is not None:
        headers[REQUEST_ID_HEADER] = context["request_id"]
        headers[USER_HEADER] = _user_name(context)


def task_context_set(*, task_id: str, task, **_) -> None:
    """``task_prerun``: the task's lines carry the id of the request that sent it, or a fresh one.

    An eager task runs inside the code that sent it, and nothing is published: it takes over the current
    context. A worker reads only the message headers, so a context left behind by an earlier task in the same
    process can never leak into this one."""
    request = task.request
    sender = _context.get() if request.is_eager else None
    if sender is not None:
        request_id, user = sender["request_id"], _user_name(sender)
    else:
        request_id = request.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        user = request.get(USER_HEADER) or "-"
    context = {"request_id": request_id, "user": user, "task": task.name, "task_id": task_id}
    # Kept on the task's request, which Celery pops only after task_postrun: nested eager tasks each reset
    # their own.
    request.percolate_log_context = _context.set(context)


def task_context_reset(*, task, **_) -> None:
    """``task_postrun``: back to the context the task started in (the request's, when eager; none on a worker)."""
    token = getattr(task.request, "percolate_log_context", None)
    if token is not None:
        _context.reset(token)
        task.request.percolate_log_context = None


def celery_logging_configure(**_) -> None:
    """``setup_logging``: a worker or beat writes its lines through the settings' ``LOGGING`` (JSON, with the
    request id) as the web processes do. Without a receiver Celery replaces the root logger's handlers with its
    own text format; with one, ``LOG_LEVEL`` rather than ``--loglevel`` sets the level."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def celery_signals_connect() -> None:
    """Connect the receivers above (once, however often the Celery app module is imported)."""
    signals.before_task_publish.connect(task_headers_add, dispatch_uid="percolate.task_headers_add")
    signals.task_prerun.connect(task_context_set, dispatch_uid="percolate.task_context_set")
    signals.task_postrun.connect(task_context_reset, dispatch_uid="percolate.task_context_reset")
    signals.setup_logging.connect(celery_logging_configure, dispatch_uid="percolate.celery_logging_configure")
