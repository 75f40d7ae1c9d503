"""The opportunity board's indexes (cases/models.py CaseRequest.Meta).

Built CONCURRENTLY on PostgreSQL (core.migration_operations: no write lock on the case table
while it is scanned), so this migration is not atomic. case_language_idx, which
case_language_order_idx replaces, is dropped last: it serves the board's queries while the new
indexes are built, reads and writes going on meanwhile.
"""

from django.conf import settings
from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0009_case_purged_at"),
        ("volunteers", "0007_attorneyprofile_time_zone"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["language", "-priority", "created_at", "-id"],
                name="case_language_order_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                condition=models.Q(("next_hearing_date__isnull", False)),
                fields=["next_hearing_date"],
                name="case_hearing_date_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["detained", "-priority", "created_at", "-id"],
                name="case_board_detained_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                condition=models.Q(("remote_ok", True)),
                fields=["detained", "-priority", "created_at", "-id"],
                name="case_board_remote_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="caserequest",
            name="case_language_idx",
        ),
    ]
