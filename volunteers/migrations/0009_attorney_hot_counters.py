"""Let a matching run raise attorneys' counters with heap-only (HOT) updates (see
AttorneyProfile.Meta): attorney_available_idx no longer names active_cases in its condition, and
the attorneys' table keeps half of each page free, so the new row version of each attorney a run
raises fits beside the old one.

Not atomic: VACUUM FULL, which rewrites the table's existing pages with that room (the setting
alone applies to pages written from now on), cannot run in a transaction. It holds the table's
exclusive lock for as long as it copies it: well under a second at 100,000 attorneys.
"""

from django.db import migrations, models
from django.db.models import Q

TABLE = "volunteers_attorneyprofile"


def _fillfactor(value: int, *, rewrite: bool):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {int(value)})")
        if rewrite:
            schema_editor.execute(f"VACUUM FULL {TABLE}")

    return apply


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("volunteers", "0008_attorney_preferences")]

    operations = [
        migrations.RemoveIndex(model_name="attorneyprofile", name="attorney_available_idx"),
        migrations.AddIndex(
            model_name="attorneyprofile",
            index=models.Index(
                fields=["paused_until"],
                name="attorney_available_idx",
                condition=Q(verification="verified"),
            ),
        ),
        migrations.RunPython(
            _fillfactor(50, rewrite=True), _fillfactor(100, rewrite=False), atomic=False
        ),
    ]
