"""The index of case_request_repeat_check (cases/models.py CaseRequest.Meta): requests typed into
a form (partner intake, the admin's add form) by creation time, imports left out. Built
CONCURRENTLY on PostgreSQL (core.migration_operations), so this migration is not atomic."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0016_submission_token")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["created_at"],
                name="case_typed_recent_idx",
                condition=models.Q(source__in=["partner", "coordinator"]),
            ),
        ),
    ]
