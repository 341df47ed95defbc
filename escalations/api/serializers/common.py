"""Shapes shared by several endpoints: errors, short references to related objects, and users named by
their username."""

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.fields import empty

from indicators.models import Agency

from ..fields import CharField


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence safe to show to a person."""

    detail = CharField()


class ValidationErrorSerializer(ErrorSerializer):
    """400: the input was refused; ``fields`` maps each bad field to its problems."""

    # DRF's metaclass takes declared fields out of the class body: this does not replace ``Serializer.fields``.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=CharField()), required=False
    )


class ConflictSerializer(ErrorSerializer):
    """409: the object's current status does not allow the action."""

    status = CharField(help_text="The current status.")
    available_actions = serializers.ListField(child=CharField(), help_text="The actions this user may take now.")


class CodeField(serializers.SlugRelatedField):
    """A related object named by a text key. NUL characters are refused here: PostgreSQL cannot compare
    text containing them and would fail the lookup with a server error."""

    def run_validation(self, data=empty):
        # DRF reads "" as null for a related field; the schema says a code is at least one character.
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value="(text with a NUL character)")
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class UsernameField(CodeField):
    """A user named by username (active users only)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(slug_field="username", **kwargs)


class AgencyCodeField(CodeField):
    """An agency named by its code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Agency.objects.all())
        super().__init__(slug_field="code", **kwargs)
