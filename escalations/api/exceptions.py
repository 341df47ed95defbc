"""The one exception handler of the API: domain errors and framework errors become JSON with a ``detail``.

- ``TransitionNotAllowed`` → 409 with the current ``status`` and the ``available_actions``;
- ``ActionForbidden`` (and DRF's/Django's permission errors) → 403;
- ``InvalidInput``, DRF ``ValidationError``, Django ``ValidationError`` → 400 with ``fields``;
- ``ImportRejected`` → 400 with every row ``errors`` (line, column, message) and the ``warnings``;
- a missing object → 404.
Everything else is DRF's default, rewritten to the same ``{"detail": …}`` shape."""

from django.core.exceptions import ObjectDoesNotExist, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from escalations.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from indicators.services import ImportRejected


def _as_lists(fields: dict) -> dict[str, list[str]]:
    """Field errors in one shape: ``{"field": ["problem", …]}`` (nested serializers flattened to text)."""
    result = {}
    for name, problems in fields.items():
        if isinstance(problems, dict):
            problems = [f"{key}: {value}" for key, value in _as_lists(problems).items()]
        elif not isinstance(problems, list | tuple):
            problems = [problems]
        result[str(name)] = [str(problem) for problem in problems]
    return result


def invalid_response(fields: dict, detail: str = "The input is not valid.") -> Response:
    return Response({"detail": detail, "fields": _as_lists(fields)}, status=status.HTTP_400_BAD_REQUEST)


def conflict_payload(error: TransitionNotAllowed) -> dict:
    return {"detail": error.message, "status": error.status, "available_actions": error.available}


def domain_error_payload(error: Exception) -> tuple[int, dict]:
    """Status code and body for a domain error; also used by bulk actions to report each failure."""
    if isinstance(error, TransitionNotAllowed):
        return status.HTTP_409_CONFLICT, conflict_payload(error)
    if isinstance(error, ActionForbidden):
        return status.HTTP_403_FORBIDDEN, {"detail": error.message}
    if isinstance(error, InvalidInput):
        return status.HTTP_400_BAD_REQUEST, {"detail": error.message, "fields": _as_lists(error.fields)}
    raise TypeError(error)


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None:
        # Errors are JSON whatever format was asked for (a CSV export with a bad filter answers JSON).
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return _handle(exc, context)


def _handle(exc, context):
    if isinstance(exc, TransitionNotAllowed | ActionForbidden | InvalidInput):
        code, body = domain_error_payload(exc)
        return Response(body, status=code)
    if isinstance(exc, ImportRejected):
        return Response(
            {
                "detail": str(exc),
                "errors": [problem.as_dict() for problem in exc.errors],
                "warnings": [problem.as_dict() for problem in exc.warnings],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SuspiciousOperation):
        # Too many form fields, a body over the size limit, a malformed multipart body: Django refuses to
        # parse it, and so do we — as a 400 in the API's shape, not Django's HTML page.
        return Response({"detail": "The request body could not be read."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return invalid_response(fields)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response = invalid_response(detail)
        return response
    response = drf_exception_handler(exc, context)
    if response is not None and not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": str(response.data)}
    return response
