"""The audit chain's checkpoints: a separately stored, signed head, so that a chain cut at its end no longer
passes verification. Append-only like the events (see 0003_event_append_only): on PostgreSQL a trigger
refuses ``UPDATE`` and ``DELETE``; TRUNCATE stays possible for the table's owner (the test suite uses it)."""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION escalations_auditcheckpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only: % on escalations_auditcheckpoint is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER escalations_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON escalations_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION escalations_auditcheckpoint_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS escalations_auditcheckpoint_append_only ON escalations_auditcheckpoint;
DROP FUNCTION IF EXISTS escalations_auditcheckpoint_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("escalations", "0007_outbox")]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField()),
                (
                    "source",
                    models.CharField(help_text="What wrote it: the nightly verification, an export.", max_length=32),
                ),
                (
                    "last_event_id",
                    models.BigIntegerField(blank=True, help_text="Empty when the chain was empty.", null=True),
                ),
                ("head_hash", models.CharField(max_length=64)),
                ("event_count", models.PositiveBigIntegerField()),
                ("signature", models.CharField(max_length=64)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(create, drop),
    ]
