"""The API's JSON fields, as strict as the schema: text must be a JSON string, a yes/no a JSON boolean and a
decimal a JSON string.
DRF would read ``0`` as the text ``"0"`` and ``1`` or ``"yes"`` as true, so a client could send what the schema
refuses and have it silently accepted. (Multipart uploads, whose values are all text, use DRF's own fields.)"""

from typing import Any

from rest_framework import serializers


class CharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class DecimalField(serializers.DecimalField):
    """A decimal as a JSON string (``"12.5"``), as the API writes it; not ``""`` (DRF reads it as null), a
    number (whose binary value is not the decimal typed) or a boolean."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's model serializer with these fields for the model's text and boolean columns."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: CharField
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            if field is serializers.CharField
        },
        **{
            model_field: BooleanField
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            if field is serializers.BooleanField
        },
        **{
            model_field: DecimalField
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            if field is serializers.DecimalField
        },
    }
