"""The small matching run's indexes (cases/models.py CaseRequest.Meta).

Built CONCURRENTLY on PostgreSQL (core.migration_operations): a plain CREATE INDEX blocks
writes to the case table for as long as it scans it, partial or not (75 s at 3.7M cases, see
0014), so this migration is not atomic. SQLite adds plain indexes; the state is AddIndex's.
"""

import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0011_case_outcomes"),
        ("volunteers", "0008_attorney_preferences"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                models.F("language"),
                models.F("case_type"),
                models.F("detained"),
                models.F("court"),
                models.F("remote_ok"),
                django.db.models.functions.comparison.Coalesce(
                    models.Case(
                        models.When(relay_interpreter_ok=True, then=models.F("relay_language"))
                    ),
                    models.Value(""),
                ),
                models.OrderBy(
                    django.db.models.functions.comparison.Greatest(
                        models.F("priority"), models.Value(0)
                    ),
                    descending=True,
                ),
                models.F("id"),
                condition=models.Q(("closed_at__isnull", True)),
                name="case_cell_priority_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="caserequest",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True), ("relay_interpreter_ok", True)),
                fields=["relay_language", "language"],
                name="case_relay_pair_idx",
            ),
        ),
    ]
