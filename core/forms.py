"""How a page submits a form to a service, and shows the service's refusal on the form that asked."""

from collections.abc import Callable
from typing import TypeVar

from django import forms

from .errors import DomainError, InvalidInput

T = TypeVar("T")


def show_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Field problems on their fields, the rest above the form."""
    if isinstance(error, InvalidInput):
        for name, problem in error.fields.items():
            form.add_error(name if name in form.fields else None, problem)
    else:
        form.add_error(None, error.message)


def submit(form: forms.BaseForm, change: Callable[[], T]) -> tuple[int, T | None]:
    """A page's form submission: validate ``form`` and, when it is valid, make the change (``change`` calls
    the service). Returns the HTTP status to answer with — 200 when the change was made, 400 for the form's
    own errors, else the refusal's own status, with the refusal put on the form — and what the service
    returned (``None`` unless it was made)."""
    if not form.is_valid():
        return 400, None
    try:
        result = change()
    except DomainError as error:
        show_domain_error(form, error)
        return error.status_code, None
    return 200, result
