"""An index for the review queue's "Put back by attorney" filter (matching.admin): the cases of
returned matches. Built CONCURRENTLY on PostgreSQL (core.migration_operations: the matches
table stays writable while it builds), so this migration is not atomic; SQLite builds it plainly.
"""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("matching", "0006_match_breakdown_compact")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="match",
            index=models.Index(
                fields=["case"],
                name="match_returned_case_idx",
                condition=models.Q(status="returned"),
            ),
        ),
    ]
