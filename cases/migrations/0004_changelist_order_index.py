"""The admin changelist's order (cases/models.py CaseRequest.Meta), built CONCURRENTLY on
PostgreSQL (core.migration_operations: no write lock on the case table while it is scanned), so
this migration is not atomic."""

from django.conf import settings
from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0003_protected_identifiers"),
        ("volunteers", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                fields=["-priority", "created_at", "-id"], name="case_list_order_idx"
            ),
        ),
    ]
