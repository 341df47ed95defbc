"""Room on each page of the indicator table for the check's colour changes (PostgreSQL ``fillfactor`` 50).

A check sets ``rag`` and ``rag_since`` of every indicator whose colour changed; the first check after an import
of new indicators sets them all. Neither column is indexed, so PostgreSQL can write the new row version on the
same page without touching the table's eight indexes (a "HOT" update), but only where the page has room for
it. On full pages every such change inserted into each index, the full-text index included (its words computed
again per indicator): the first check of 100,000 new indicators spent about 4 s of its 17 s on their colours.
Half of each page left free holds one new version of every row on it. The table is small (a city has thousands
of indicators), so doubling it costs little. Applies to the pages written from now on; ``VACUUM FULL`` rewrites
the existing ones. SQLite has no such setting."""

from django.db import migrations


def room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE indicators_indicator SET (fillfactor = 50)")


def no_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE indicators_indicator RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0014_measurement_window_index"),
    ]

    operations = [migrations.RunPython(room, no_room)]
