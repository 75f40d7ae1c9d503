"""Let a matching run claim cases with HOT updates (see CaseRequest.Meta): no index on status, and
10% free room per page of the cases table so the new row version fits beside the old one."""

from django.db import migrations

TABLE = "cases_caserequest"


def _fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {int(value)})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_lean_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="caserequest", name="case_open_priority_idx"),
        migrations.RemoveIndex(model_name="caserequest", name="case_status_lang_court_idx"),
        migrations.RunPython(_fillfactor(90), _fillfactor(100), elidable=False),
    ]
