"""Drop Match.case's own index: one_match_per_pair's (case, attorney) index serves lookups by case.

By hand, not AlterField: Django's AlterField(db_index=False) drops every index it finds on the
column, which here includes the one_active_match_per_case partial unique index.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "matching_match_case_id_b99acaa9"


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_hot_case_claims"),
        ("matching", "0002_matchingrun_plan"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="match",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="matches",
                        to="cases.caserequest",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "matching_match" ("case_id")',
                ),
            ],
        ),
    ]
