"""Request ids and structured logs: every log line written while serving a request carries the request's id
(from ``X-Request-ID`` when a proxy set one, else a new one), the user and the path, and the id is echoed in
the response so a user's report can be matched to the server's logs."""

import json
import logging
import re
import uuid
from contextvars import ContextVar

_request: ContextVar[dict | None] = ContextVar("percolate_request", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        context = {"request_id": request.id, "path": request.path, "request": request}
        token = _request.set(context)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        response["X-Request-ID"] = request.id
        return response


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``user`` and ``path`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _request.get() or {}
        request = context.get("request")
        user = getattr(request, "user", None) if request is not None else None
        record.request_id = context.get("request_id", "-")
        record.path = context.get("path", "-")
        record.user = user.get_username() if user is not None and getattr(user, "is_authenticated", False) else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user": getattr(record, "user", "-"),
            "path": getattr(record, "path", "-"),
        }
        for key in ("action", "flag", "status_code"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
