"""The full-text index of the indicator search (``selectors.indicators_matching``), on PostgreSQL only: a GIN
index over the English tsvector of name, MMR ID and service. SQLite has no such index; the search falls back to
substring matching there."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("name", "external_id", "service", config="english"), name="indicator_search")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("indicators", "Indicator"), INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("indicators", "Indicator"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0010_import_file_once"),
    ]

    operations = [migrations.RunPython(create, drop)]
