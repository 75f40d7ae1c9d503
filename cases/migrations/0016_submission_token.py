"""The partner intake form's one-time submission token (core.forms): one request per submission.

The column is nullable without a default, a metadata-only ALTER TABLE. On PostgreSQL the unique
index is built CONCURRENTLY (a plain CREATE INDEX blocks writes to the case table while it scans
it, 75 s at 3.7M cases, see 0014), so this migration is not atomic; elsewhere (SQLite) the
constraint is added as Django adds it. Both build the same partial unique index.
"""

from django.db import migrations, models

CONSTRAINT = models.UniqueConstraint(
    fields=["submission_token"],
    name="case_submission_token_unique",
    condition=models.Q(submission_token__isnull=False),
)
INDEX = """
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS case_submission_token_unique
ON cases_caserequest (submission_token) WHERE submission_token IS NOT NULL
"""
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS case_submission_token_unique"


def _add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)
    else:
        schema_editor.add_constraint(apps.get_model("cases", "CaseRequest"), CONSTRAINT)


def _remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_INDEX)
    else:
        schema_editor.remove_constraint(apps.get_model("cases", "CaseRequest"), CONSTRAINT)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0015_case_claim_room")]

    operations = [
        migrations.AddField(
            model_name="caserequest",
            name="submission_token",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="caserequest", constraint=CONSTRAINT)
            ],
            database_operations=[migrations.RunPython(_add, _remove, atomic=False)],
        ),
    ]
