"""Template filters every app's pages use (``{% load formatting %}``)."""

from typing import TYPE_CHECKING

from django import template

if TYPE_CHECKING:
    from django.contrib.auth.models import User

register = template.Library()


@register.filter
def person(user: "User | None", empty: str = "—") -> str:
    """A user's full name, else username; ``empty`` for nobody."""
    if user is None:
        return empty
    return user.get_full_name() or user.get_username()
