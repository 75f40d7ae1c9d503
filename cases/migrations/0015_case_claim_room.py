"""Keep 20% of each page of the cases table free (was 10%, 0006), so that a matching run's claims
stay heap-only (see CaseRequest.Meta) where it claims many cases of one page.

A claim's new row version must fit on the old one's page to be heap-only, and the old version
cannot be pruned before the run's transaction ends: a page packed to 90% (about 44 cases) has
room for 4 claims, 80% (about 38) for 10. A full run at 1,000,000 cases claims ~9% of the open
cases, ~4 per page on average, and found 10% of its claims on full pages; each of those wrote an
entry in all 16 indexes of the table.

Only pages written from now on get the room: a bulk import (or seed_scale) after this migration,
and new cases. Existing pages keep their packing until the table is rewritten (VACUUM FULL, or
pg_repack without the lock, in a maintenance window; not here: it locks the table for as long
as it copies it, minutes at millions of cases). A table whose cases have mostly matched or
closed needs no rewrite: a page's dead versions are pruned, and its few open cases have room.
"""

from importlib import import_module

from django.db import migrations

# The same ALTER TABLE on PostgreSQL (nothing elsewhere) as the room's first step.
_fillfactor = import_module("cases.migrations.0006_hot_case_claims")._fillfactor


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_case_other_languages_key")]

    operations = [
        migrations.RunPython(_fillfactor(80), _fillfactor(90), elidable=False),
    ]
