"""On PostgreSQL, refuse UPDATE and DELETE on the event log even from raw SQL (SEC-24).

The retention purge (SEC-25) will lift this for its own transaction only with
`SET LOCAL pbm.allow_event_purge = 'on'`. SQLite relies on the model-level guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_domainevent_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('pbm.allow_event_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'core_domainevent is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_domainevent_append_only
    BEFORE UPDATE OR DELETE ON core_domainevent
    FOR EACH ROW EXECUTE FUNCTION core_domainevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS core_domainevent_append_only ON core_domainevent;
DROP FUNCTION IF EXISTS core_domainevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
