"""Template filters of the import page (``{% load imports %}``)."""

from django import template

from ..services.import_writer import COUNT_LABELS

register = template.Library()


@register.filter
def count_label(name: str) -> str:
    """An import count's name as the report prints it: ``indicators_created`` → "Indicators created"."""
    return COUNT_LABELS.get(name, name.replace("_", " ").capitalize())
