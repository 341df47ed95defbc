"""The nightly check reads each indicator's trailing window as one ``(indicator_id, period)`` range of the index
of ``measurement_one_per_period``. On PostgreSQL that index now carries ``value`` and ``preliminary`` too
(``INCLUDE``), so the window is read from the index alone (an index-only scan) instead of visiting a table row
per period; rows on pages written since the last vacuum are still read from the table, until autovacuum marks
those pages all-visible. SQLite has no such index; it keeps the plain one. The separate index on
``indicator_id`` alone goes: the unique index begins with that column and serves the same look-ups."""

from django.db import migrations, models

CONSTRAINT = "ALTER TABLE indicators_measurement DROP CONSTRAINT measurement_one_per_period, "
COVERING = (
    CONSTRAINT + "ADD CONSTRAINT measurement_one_per_period UNIQUE (indicator_id, period) INCLUDE (value, preliminary)"
)
PLAIN = CONSTRAINT + "ADD CONSTRAINT measurement_one_per_period UNIQUE (indicator_id, period)"


def covering(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COVERING)


def plain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0013_agency_aliases_and_indicator_identity"),
    ]

    operations = [
        migrations.RunPython(covering, plain),
        migrations.AlterField(
            model_name="measurement",
            name="indicator",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="measurements",
                to="indicators.indicator",
            ),
        ),
    ]
