"""``?format=csv`` on the lists (flags, events, indicators): the same filters, every matching row (not one
page), streamed so that exporting the whole audit log does not hold it in memory.

Columns follow the list's serializer: a nested object becomes dotted columns (``indicator.external_id``);
lists and free-form JSON (an event's ``data``) are written as JSON text."""

import csv
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

CHUNK = 500
# A cell that a spreadsheet would read as a formula is written with a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        lines = _Echo()
        writer = csv.writer(lines)
        out = [writer.writerow(columns)]
        out += [writer.writerow([_cell(row.get(column)) for column in columns]) for row in rows]
        return "".join(out).encode()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    if text.startswith(FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def _columns(serializer: serializers.Serializer) -> list[tuple[str, str | None]]:
    columns = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            columns += [(name, sub) for sub in field.fields]
        else:
            columns.append((name, None))
    return columns


def csv_rows(queryset, serializer_class, context: dict) -> Iterator[str]:
    """The header line, then one line per object of ``queryset``, serialized a chunk at a time."""
    columns = _columns(serializer_class(context=context))
    writer = csv.writer(_Echo())
    yield writer.writerow([name if sub is None else f"{name}.{sub}" for name, sub in columns])
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK), CHUNK):
        for row in serializer_class(chunk, many=True, context=context).data:
            yield writer.writerow(
                [_cell(row[name] if sub is None else (row[name] or {}).get(sub)) for name, sub in columns]
            )


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class CsvExportMixin:
    """For a list viewset: ``?format=csv`` streams every row the same filters select."""

    csv_filename = "export.csv"

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            return renderers
        return [renderer for renderer in renderers if not isinstance(renderer, CSVRenderer)]

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) != CSVRenderer.format:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            csv_rows(queryset, self.get_serializer_class(), self.get_serializer_context()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
