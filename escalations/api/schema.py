"""The OpenAPI schema's error responses. Every operation documents the errors it can answer, in the one
shape the exception handler writes, so that clients (and schemathesis) can rely on them:
401 without credentials, 403 for a role that may not, 404 for what is outside one's scope or does not
exist, 400 for refused input (writes, and lists with filters). 409 is declared by the views that can
refuse on an object's status (lifecycle actions, projects)."""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from .serializers.common import ErrorSerializer, ValidationErrorSerializer


class PercolateAutoSchema(AutoSchema):
    def _error_codes(self) -> dict[str, type[ErrorSerializer]]:
        permissions = getattr(self.view, "permission_classes", ())
        if any(permission is AllowAny for permission in permissions):
            return {"400": ValidationErrorSerializer} if self.method != "GET" else {}
        codes = {"401": ErrorSerializer, "403": ErrorSerializer, "404": ErrorSerializer}
        if self.method != "GET" or getattr(self.view, "filterset_class", None) is not None:
            codes["400"] = ValidationErrorSerializer
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, serializer in self._error_codes().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code, ["application/json"], direction)
        return responses
