"""Template filters every app's pages use (``{% load formatting %}``)."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any, empty: str = "—") -> str:
    """A user's full name, else username; ``empty`` for nobody."""
    if user is None:
        return empty
    return user.get_full_name() or user.get_username()
