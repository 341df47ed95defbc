"""The input of an action, checked against its row of the table (``lifecycle.Input``): required values
present, text trimmed and within its length, a choice among its values, a date in the future, a period, a
number, people, projects and agencies as objects. Every problem is reported at once, as ``InvalidInput``."""

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import InvalidInput
from indicators.models import Agency

from ..lifecycle import Input, InputKind
from ..models import Project

REQUIRED = "This field is required."


class _Problem(Exception):
    pass


def _text(spec: Input, value: Any) -> str:
    text = "" if value is None else (value if isinstance(value, str) else str(value)).strip()
    if len(text) > spec.max_length:
        raise _Problem(f"At most {spec.max_length} characters.")
    return text


def _choice(spec: Input, value: Any) -> str:
    choices = spec.choice_class
    if value in (None, ""):
        return spec.default
    if value not in choices.values:
        raise _Problem(f"Must be one of {', '.join(choices.values)}.")
    return str(value)


def _future_date(spec: Input, value: Any) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _Problem("Must be a date.")
    if value <= timezone.localdate():
        raise _Problem("Must be a date in the future.")
    return value


def _period(spec: Input, value: Any) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _Problem("Must be a date.")
    return value


# What a measurement's column holds: 20 digits, 6 of them after the point.
_NUMBER_LIMIT = Decimal(10) ** 14


def _number(spec: Input, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else None
    except ArithmeticError:
        number = None
    if number is None or not number.is_finite() or abs(number) >= _NUMBER_LIMIT:
        raise _Problem("Must be a number below 100,000,000,000,000.")
    return number.quantize(Decimal("0.000001"))


def _instance(model: type, what: str) -> Callable[[Input, Any], Any]:
    def clean(spec: Input, value: Any) -> Any:
        if value is not None and not isinstance(value, model):
            raise _Problem(f"Unknown {what}.")
        return value

    return clean


def _agencies(spec: Input, value: Any) -> list[Agency]:
    agencies = list(value or ())
    if not all(isinstance(agency, Agency) for agency in agencies):
        raise _Problem("Unknown agency.")
    return agencies


_CLEANERS: dict[InputKind, Callable[[Input, Any], Any]] = {
    InputKind.TEXT: _text,
    InputKind.PARAGRAPH: _text,
    InputKind.CHOICE: _choice,
    InputKind.FUTURE_DATE: _future_date,
    InputKind.PERIOD: _period,
    InputKind.NUMBER: _number,
    InputKind.USER: lambda spec, value: _instance(get_user_model(), "user")(spec, value),
    InputKind.PROJECT: _instance(Project, "project"),
    InputKind.AGENCIES: _agencies,
}


def clean_inputs(inputs: tuple[Input, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """The input of an action (``Transition.inputs``), cleaned; ``InvalidInput`` naming every field that is
    missing or wrong."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in inputs:
        try:
            value = _CLEANERS[spec.kind](spec, values.get(spec.name))
            if spec.required and value in (None, "", []):
                raise _Problem(REQUIRED)
        except _Problem as problem:
            problems[spec.name] = str(problem)
        else:
            cleaned[spec.name] = value
    if problems:
        raise InvalidInput(problems)
    return cleaned
