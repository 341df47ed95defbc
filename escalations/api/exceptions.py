"""The one exception handler of the API: domain errors and framework errors become JSON with a ``detail``.

- a ``core.errors.DomainError`` answers its own ``status_code`` with its ``as_dict()`` body (the pages read the
  same class attribute): ``InvalidInput`` and ``ImportRejected`` 400 (with ``fields``, or every row's
  ``errors`` and the ``warnings``), ``ActionForbidden`` 403, ``NotFound`` 404, ``TransitionNotAllowed`` 409
  with the current ``status`` and the ``available_actions``, any other ``Conflict`` 409;
- DRF's and Django's validation errors → 400 with ``fields`` (409 when the only problem is a value that must be
  unique and is taken); their permission errors → 403;
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

from core.errors import DomainError


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


def _only(codes, code: str) -> bool:
    """Whether every problem of a DRF error's codes (nested lists and dicts) is ``code``."""
    if isinstance(codes, dict):
        return bool(codes) and all(_only(value, code) for value in codes.values())
    if isinstance(codes, list | tuple):
        return bool(codes) and all(_only(value, code) for value in codes)
    return codes == code


def invalid_response(fields: dict, detail: str = "The input is not valid.") -> Response:
    return Response({"detail": detail, "fields": _as_lists(fields)}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None:
        # Errors are JSON whatever format was asked for (a CSV export with a bad filter answers JSON).
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return _handle(exc, context)


def _handle(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
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
        if _only(exc.get_codes(), "unique"):
            # Valid input that collides with what exists (a code already taken): a conflict, not bad input.
            return Response(
                {"detail": "It already exists.", "fields": _as_lists(detail)}, status=status.HTTP_409_CONFLICT
            )
        return invalid_response(detail)
    response = drf_exception_handler(exc, context)
    if response is not None and not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": str(response.data)}
    return response
