"""The OpenAPI schema's error responses. Every operation documents the errors it can answer, in the one
shape the exception handler writes, so that clients (and schemathesis) can rely on them:
401 without credentials, 403 for a role that may not, 404 for what is outside one's scope or does not
exist, 400 for refused input (writes, and lists: their filters and pages), 409 on a write for a value that must
be unique and is taken (and, declared by their views, for an object's status: lifecycle actions, projects)."""

import re
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from .serializers.common import ErrorSerializer, ValidationErrorSerializer


class PercolateAutoSchema(AutoSchema):
    def _error_codes(self) -> dict[str, type[ErrorSerializer]]:
        permissions = getattr(self.view, "permission_classes", ())
        if any(permission is AllowAny for permission in permissions):
            return {"400": ValidationErrorSerializer} if self.method != "GET" else {}
        codes = {"401": ErrorSerializer, "403": ErrorSerializer, "404": ErrorSerializer}
        if self.method != "GET" or self._takes_query():
            codes["400"] = ValidationErrorSerializer
        if self.method in ("POST", "PUT", "PATCH"):
            codes["409"] = ValidationErrorSerializer  # a value that must be unique is taken (or a status refuses)
        return codes

    def _takes_query(self) -> bool:
        """Whether the operation reads query parameters it may refuse (filters, pagination, its own)."""
        return (
            getattr(self.view, "filterset_class", None) is not None
            or self._is_list_view()
            or any(getattr(parameter, "location", None) == "query" for parameter in self.get_override_parameters())
        )

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, serializer in self._error_codes().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code, ["application/json"], direction)
        return responses


# drf-spectacular's pattern for a decimal string also matches "", "-" and "."; the server refuses those.
_DECIMAL_PATTERN = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\.\\d\{0,(\d+)\}\)\?\$$")


def _strict_decimal(pattern: str, signed: bool = True) -> str:
    match = _DECIMAL_PATTERN.match(pattern)
    if not match:
        return pattern
    whole, places = match.groups()
    sign = "-?" if signed else ""
    return rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


# Text refuses the null character (Django's and DRF's fields do); a schema says so, or a client reads any
# string as valid.
_TEXT = r"^[^\u0000]*$"


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """The API's decimals: a string of digits, signed only where the field takes negative values."""

    target_class = "escalations.api.fields.DecimalField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        minimum = self.target.min_value
        if isinstance(schema.get("pattern"), str):
            schema["pattern"] = _strict_decimal(schema["pattern"], signed=minimum is None or minimum < 0)
        return schema


def _walk(node: Any, inbound: bool) -> None:
    """Tighten the schemas of what a client sends (``inbound``): decimals and text as the server reads them."""
    if isinstance(node, dict):
        if node.get("format") == "decimal" and isinstance(node.get("pattern"), str):
            node["pattern"] = _strict_decimal(node["pattern"])
        elif inbound and node.get("type") == "string" and not {"format", "pattern", "enum"} & node.keys():
            node["pattern"] = _TEXT
        for key, value in node.items():
            _walk(value, inbound or key in ("parameters", "requestBody") or str(key).endswith("Request"))
    elif isinstance(node, list):
        for value in node:
            _walk(value, inbound)


def _needs_a_body(body: dict[str, Any], components: dict[str, Any]) -> bool:
    """A body is required unless every field of it is optional (then an absent body is the empty object)."""
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if schema.get("type") == "object" and "oneOf" not in schema and not schema.get("required"):
            return False
    return True


def mark_bodies(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A schema postprocessing hook: a request body is required where it has a required field (the server
    reads an absent body as the empty object), the bulk action's ``filter`` object refuses keys it does not
    know, a decimal string needs a digit and text has no null character, as the server reads them."""
    _walk(result, inbound=False)
    components = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = _needs_a_body(operation["requestBody"], components)
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in ("BulkFilter", "BulkFilterRequest"):
            component["additionalProperties"] = False
    return result
