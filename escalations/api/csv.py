"""``?format=csv`` on the lists (flags, events, indicators): the same filters, every matching row (not one
page), streamed through the one CSV writer (``core.csv``).

Columns follow the list's serializer — a nested object becomes dotted columns (``indicator.external_id``),
lists and free-form JSON are written as JSON text — unless the list shares an export with its page
(``csv_export``: the audit log)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

from core.csv import csv_lines, csv_response

CHUNK = 500


class CSVRenderer(BaseRenderer):
    """Makes ``?format=csv`` a known format. Lists stream their CSV themselves (``CsvExportMixin``); this
    renderer only writes what else might be rendered as CSV (an error, for instance) as one-row CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        rows = data if isinstance(data, list) else [data]
        rows = [row for row in rows if isinstance(row, dict)]
        if not rows:
            return b""
        columns = list(rows[0])
        return "".join(csv_lines(columns, ([row.get(c) for c in columns] for row in rows))).encode()


def _columns(serializer: serializers.Serializer) -> list[tuple[str, str | None]]:
    columns: list[tuple[str, str | None]] = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            # A BindingDict iterates its field names; the stubs say it iterates the fields.
            columns += [(name, sub) for sub in field.fields]  # type: ignore[misc]
        else:
            columns.append((name, None))
    return columns


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def serialized_rows(queryset, serializer_class, context: dict, columns) -> Iterator[list[Any]]:
    """One row per object of ``queryset``, serialized a chunk at a time."""
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK), CHUNK):
        for row in serializer_class(chunk, many=True, context=context).data:
            yield [row[name] if sub is None else (row[name] or {}).get(sub) for name, sub in columns]


class CsvExportMixin:
    """For a list viewset: ``?format=csv`` streams every row the same filters select."""

    csv_filename = "export.csv"
    # A function (queryset → response) shared with a page, instead of the serializer's columns.
    csv_export: Callable[[QuerySet[Any]], StreamingHttpResponse] | None = None

    def get_renderers(self):
        renderers = super().get_renderers()
        # The list exports CSV; a method the view does not take (no action) still negotiates, to answer 405.
        if getattr(self, "action", None) in ("list", None):
            return renderers
        return [renderer for renderer in renderers if not isinstance(renderer, CSVRenderer)]

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) != CSVRenderer.format:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        if self.paginator is not None:  # every row is exported, but a malformed page parameter is still refused
            self.paginator.validate_query(request)
        if self.csv_export is not None:
            return self.csv_export(queryset)
        serializer_class, context = self.get_serializer_class(), self.get_serializer_context()
        columns = _columns(serializer_class(context=context))
        header = [name if sub is None else f"{name}.{sub}" for name, sub in columns]
        return csv_response(self.csv_filename, header, serialized_rows(queryset, serializer_class, context, columns))
