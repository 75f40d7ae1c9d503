"""Indexes for the case request changelist's case type, court and outcome filters (cases.admin).

Each is the filter's column, then the changelist's order (-priority, created_at, -id): a filtered
page is a range of the index instead of a walk of case_list_order_idx until 50 rows match. The
case type and court ones take over the plain indexes on those columns (their first column serves
the same lookups); each is built before the old one is dropped. All are built and dropped
CONCURRENTLY on PostgreSQL (core.migration_operations: the cases table stays writable while they
build), so this migration is not atomic; SQLite builds them plainly.
"""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_operations import (
    AddIndexConcurrentlyOnPostgreSQL,
    RemoveIndexConcurrentlyOnPostgreSQL,
)

# The court foreign key's own index, as Django named it (the same on every database).
COURT_FK_INDEX = "cases_caserequest_court_id_5733bb37"


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop_court_fk_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)}IF EXISTS "{COURT_FK_INDEX}"')


def create_court_fk_index(apps, schema_editor):
    schema_editor.execute(
        f'CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "{COURT_FK_INDEX}" '
        'ON "cases_caserequest" ("court_id")'
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0017_case_typed_recent_idx")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["case_type", "-priority", "created_at", "-id"],
                name="case_type_order_idx",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgreSQL(model_name="caserequest", name="case_case_type_idx"),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["court", "-priority", "created_at", "-id"],
                name="case_court_order_idx",
            ),
        ),
        # By hand, not AlterField alone: its db_index=False would drop the index in a transaction
        # (not CONCURRENTLY), and drops every index it finds on the column (see matching/0003).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="caserequest",
                    name="court",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="case_requests",
                        to="cases.immigrationcourt",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_court_fk_index, create_court_fk_index),
            ],
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["outcome", "-priority", "created_at", "-id"],
                name="case_outcome_order_idx",
                condition=~models.Q(outcome=""),
            ),
        ),
    ]
