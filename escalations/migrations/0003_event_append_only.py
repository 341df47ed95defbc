"""On PostgreSQL the database itself refuses to change or delete an audit event, whoever asks. (SQLite keeps
the application's guard: no code path updates or deletes events, and the admin shows them read-only.)
TRUNCATE stays possible for the table's owner: the test suite empties tables with it, and an owner can drop the
table anyway; the hash chain and off-site exports (``export_audit``) cover that case."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION escalations_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on escalations_event is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER escalations_event_append_only
    BEFORE UPDATE OR DELETE ON escalations_event
    FOR EACH ROW EXECUTE FUNCTION escalations_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS escalations_event_append_only ON escalations_event;
DROP FUNCTION IF EXISTS escalations_event_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("escalations", "0002_follow_through")]

    operations = [migrations.RunPython(create, drop)]
