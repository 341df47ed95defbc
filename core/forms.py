"""How a page shows a service's refusal on the form that asked for the change."""

from django import forms

from .errors import DomainError, InvalidInput


def show_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Field problems on their fields, the rest above the form."""
    if isinstance(error, InvalidInput):
        for name, problem in error.fields.items():
            form.add_error(name if name in form.fields else None, problem)
    else:
        form.add_error(None, error.message)
