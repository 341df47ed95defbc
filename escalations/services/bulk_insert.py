"""Many-row inserts as one statement with few parameters.

A multi-row ``VALUES`` list costs a bound parameter per cell; with Django's client-side binding on
PostgreSQL, quoting tens of thousands of them takes longer than the insert. On PostgreSQL the rows therefore
travel as one array per column, expanded by ``unnest`` (``WITH ORDINALITY``, so the rows keep their order);
SQLite, where binding is cheap, gets the plain ``VALUES`` list."""

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def _text(value: object) -> str | None:
    """A value as PostgreSQL reads it from text (arrays of text travel fast; the cast does the parsing)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder)
    return str(value)


def _element(value: object) -> str:
    text = _text(value)
    if text is None:
        return "NULL"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Values whose text needs no quotes in an array literal (no space, comma, brace, quote or backslash).
_BARE = frozenset({int, Decimal, type(None)})
# Values an integer column takes as they are (``_prepared``).
_BARE_INT = frozenset({int, type(None)})


def _bare(value: object) -> str:
    return "NULL" if value is None else str(value)


def _array_literal(values: Sequence[object]) -> str:
    # Written here as one string: psycopg's array dumper visits every element in Python, ten times slower.
    # A column of numbers (ids, values) is written as it is; in the others most values repeat (statuses,
    # defaults, the same timestamp), and each is written out once.
    if set(map(type, values)) <= _BARE:
        return "{" + ",".join(map(_bare, values)) + "}"
    written: dict[object, str] = {}
    parts: list[str] = []
    for value in values:
        try:
            part = written[value]
        except KeyError:
            part = written[value] = _element(value)
        except TypeError:  # unhashable (JSON)
            part = _element(value)
        parts.append(part)
    return "{" + ",".join(parts) + "}"


def insert_select(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """(``INSERT INTO table (columns) <rows>`` without a trailing clause, parameters). ``columns`` are
    attnames; ``rows`` hold the model-level values (the function prepares them for the database)."""
    q = connection.ops.quote_name
    # Attnames of concrete fields: never a reverse relation or a generic foreign key.
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    head = f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
    by_column: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    if connection.vendor == "postgresql":
        # Django's Field.cast_db_type (since 2.0) is missing from the stubs.
        arrays = [f"%s::text[]::{f.cast_db_type(connection)}[]" for f in fields]  # type: ignore[attr-defined]
        names = [f"c{i}" for i in range(len(fields))]
        body = (
            f"SELECT {', '.join(f'u.{n}' for n in names)} FROM unnest({', '.join(arrays)}) "
            f"WITH ORDINALITY AS u({', '.join(names)}, ord) ORDER BY u.ord"
        )
        return head + body, [_array_literal(column) for column in by_column]
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    prepared = [_prepared(field, column) for field, column in zip(fields, by_column, strict=True)]
    params = [value for row in zip(*prepared) for value in row]
    return head + "VALUES " + ", ".join([placeholder] * len(rows)), params


def _prepared(field: "models.Field[Any, Any]", values: Sequence[object]) -> Sequence[object]:
    """A column's values prepared for the database by its field. An integer column's integers (ids, counts) and
    NULLs are what the field would make of them; in the others, each distinct value is prepared once: most
    repeat (statuses, defaults, the same timestamp)."""
    if isinstance(getattr(field, "target_field", field), models.IntegerField) and set(map(type, values)) <= _BARE_INT:
        return values
    seen: dict[object, object] = {}
    prepared: list[object] = []
    for value in values:
        try:
            done = seen[value]
        except KeyError:
            done = seen[value] = field.get_db_prep_save(value, connection)
        except TypeError:  # unhashable (JSON)
            done = field.get_db_prep_save(value, connection)
        prepared.append(done)
    return prepared


def execute(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` in the current transaction and return its rows (empty when it returns none). On
    PostgreSQL through a server-side-binding cursor: the arrays are sent as parameters, not quoted into the
    statement one element at a time, which is what Django's client-side binding would do."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
