"""The small matching run reads cases with other languages cell by cell (PostgreSQL only).

A case's cell includes its other languages (matching.scoring.other_languages_key), which live
in the M2M table, so no index on the case table could give one cell's cases in priority order.
This adds ``other_languages_key``: that key as text (codes sorted, comma-separated, without the
main language; '' for none), kept by triggers, and ``case_other_cell_priority_idx``, the
cells of such cases in the solver's order, like case_cell_priority_idx (cases/models.py) for
the others. matching/pipeline/load/small.py reads them.

The column is a denormalisation Django does not know of (no model field): inserts leave it at
its default, and only these triggers write it, on PostgreSQL, where the small run reads it.
Claims change none of its columns (they stay HOT, see CaseRequest.Meta). The triggers:
- a link added, changed or removed recomputes its case's key;
- a case's main language changed recomputes its key (the main language is left out of it).
A link is written after its case (every writer here creates the case first): a link written
before its case, deferred foreign keys allowing it, would be missed.

``cases_other_language_cell`` lists the cells (index keys above the priority) of cases with
other languages, so that a small run finds them without reading the index: a superset of the
cells with a case that is not closed. A row is added, by trigger and in the same transaction,
whenever a case gets a non-empty key or a case with one changes a column of its cell; rows are
never removed here (a cell whose cases all closed costs a small run one empty index probe if an
attorney with free capacity reaches it): the nightly retention task prunes them
(cases/other_language_cells.py).

The index is built CONCURRENTLY (no write lock: a plain CREATE INDEX blocks writes to the case
table for as long as it scans it, 75 s at 3.7M cases), so this migration is not atomic; it is
partial (cases with other languages, about 4% of the open ones) and small. The column is added
in a metadata-only ALTER TABLE (a constant default); filling the key touches only the cases
with links, and filling the cell list reads the new index, each in its own transaction.
"""

from django.db import migrations

TABLE = "cases_caserequest"
LINKS = "cases_caserequest_other_languages"
CELLS = "cases_other_language_cell"

KEY = f"""
CREATE FUNCTION case_other_languages_key(case_id bigint, main varchar) RETURNS varchar
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(string_agg(language_id, ',' ORDER BY language_id COLLATE "C")
                    FILTER (WHERE language_id <> main AND language_id <> ''), '')
    FROM {LINKS} WHERE caserequest_id = case_id
$$;

-- (caserequest_id, language_id) is unique: no code twice.
CREATE FUNCTION case_other_languages_link_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE {TABLE} c SET other_languages_key = case_other_languages_key(c.id, c.language_id)
        WHERE c.id = OLD.caserequest_id
          AND c.other_languages_key IS DISTINCT FROM case_other_languages_key(c.id, c.language_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE {TABLE} c SET other_languages_key = case_other_languages_key(c.id, c.language_id)
        WHERE c.id = NEW.caserequest_id
          AND c.other_languages_key IS DISTINCT FROM case_other_languages_key(c.id, c.language_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION case_other_languages_language_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.other_languages_key := case_other_languages_key(NEW.id, NEW.language_id);
    RETURN NEW;
END $$;

-- Nullable, no default: rows written before this migration read NULL (no other languages, as
-- ''). With NOT NULL DEFAULT '', an update of such a row compares the stored default with the
-- new tuple's '' byte for byte, finds the indexed column changed and is never heap-only: a
-- run's claims then rewrite every index (91k claims at 1M cases: 8.1 s instead of 0.8 s).
ALTER TABLE {TABLE} ADD COLUMN other_languages_key varchar;

CREATE TRIGGER case_other_languages_link_changed
AFTER INSERT OR UPDATE OR DELETE ON {LINKS}
FOR EACH ROW EXECUTE FUNCTION case_other_languages_link_changed();

CREATE TRIGGER case_other_languages_language_changed
BEFORE UPDATE OF language_id ON {TABLE}
FOR EACH ROW WHEN (OLD.language_id IS DISTINCT FROM NEW.language_id)
EXECUTE FUNCTION case_other_languages_language_changed();

CREATE TABLE {CELLS} (
    other_languages_key varchar NOT NULL,
    language_id varchar NOT NULL,
    case_type_id varchar NOT NULL,
    detained boolean NOT NULL,
    court_id bigint NOT NULL,
    remote_ok boolean NOT NULL,
    relay varchar NOT NULL,
    PRIMARY KEY (other_languages_key, language_id, case_type_id, detained, court_id, remote_ok,
                 relay)
);

CREATE FUNCTION case_other_cell_noted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {CELLS} VALUES (
        NEW.other_languages_key, NEW.language_id, NEW.case_type_id, NEW.detained, NEW.court_id,
        NEW.remote_ok,
        COALESCE(CASE WHEN NEW.relay_interpreter_ok THEN NEW.relay_language_id ELSE NULL END, '')
    ) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER case_other_cell_inserted
AFTER INSERT ON {TABLE}
FOR EACH ROW WHEN (NEW.other_languages_key <> '')
EXECUTE FUNCTION case_other_cell_noted();

CREATE TRIGGER case_other_cell_updated
AFTER UPDATE OF other_languages_key, language_id, case_type_id, detained, court_id, remote_ok,
    relay_interpreter_ok, relay_language_id ON {TABLE}
FOR EACH ROW WHEN (NEW.other_languages_key <> '' AND (
    OLD.other_languages_key, OLD.language_id, OLD.case_type_id, OLD.detained, OLD.court_id,
    OLD.remote_ok, OLD.relay_interpreter_ok, OLD.relay_language_id
) IS DISTINCT FROM (
    NEW.other_languages_key, NEW.language_id, NEW.case_type_id, NEW.detained, NEW.court_id,
    NEW.remote_ok, NEW.relay_interpreter_ok, NEW.relay_language_id
))
EXECUTE FUNCTION case_other_cell_noted();

"""  # noqa: S608 (constants only)

DROP_KEY = f"""
DROP TRIGGER IF EXISTS case_other_cell_updated ON {TABLE};
DROP TRIGGER IF EXISTS case_other_cell_inserted ON {TABLE};
DROP TABLE IF EXISTS {CELLS};
DROP FUNCTION IF EXISTS case_other_cell_noted();
DROP TRIGGER IF EXISTS case_other_languages_language_changed ON {TABLE};
DROP TRIGGER IF EXISTS case_other_languages_link_changed ON {LINKS};
ALTER TABLE {TABLE} DROP COLUMN IF EXISTS other_languages_key;
DROP FUNCTION IF EXISTS case_other_languages_language_changed();
DROP FUNCTION IF EXISTS case_other_languages_link_changed();
DROP FUNCTION IF EXISTS case_other_languages_key(bigint, varchar);
"""

# Filled after the triggers exist (and committed), in transactions of their own: the ALTER
# TABLE's lock is then held for an instant, and what changes meanwhile the triggers keep.
FILL_KEY = f"""
UPDATE {TABLE} c SET other_languages_key = case_other_languages_key(c.id, c.language_id)
WHERE c.id IN (SELECT caserequest_id FROM {LINKS});
"""  # noqa: S608 (constants only)

FILL_CELLS = f"""
INSERT INTO {CELLS}
SELECT DISTINCT other_languages_key, language_id, case_type_id, detained, court_id, remote_ok,
    COALESCE(CASE WHEN relay_interpreter_ok THEN relay_language_id ELSE NULL END, '')
FROM {TABLE} WHERE other_languages_key <> '' AND closed_at IS NULL
ON CONFLICT DO NOTHING;
"""  # noqa: S608 (constants only)

# The same key expressions as case_cell_priority_idx, after the other languages.
INDEX = f"""
CREATE INDEX CONCURRENTLY IF NOT EXISTS case_other_cell_priority_idx ON {TABLE} (
    other_languages_key, language_id, case_type_id, detained, court_id, remote_ok,
    (COALESCE(CASE WHEN relay_interpreter_ok THEN relay_language_id ELSE NULL END, '')),
    GREATEST(priority, 0) DESC, id
) WHERE closed_at IS NULL AND other_languages_key <> ''
"""

DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS case_other_cell_priority_idx"


def _on_postgresql(*statements: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0013_case_open_not_closed")]

    operations = [
        migrations.RunPython(_on_postgresql(KEY), _on_postgresql(DROP_KEY), atomic=True),
        migrations.RunPython(_on_postgresql(FILL_KEY), migrations.RunPython.noop, atomic=True),
        migrations.RunPython(_on_postgresql(INDEX), _on_postgresql(DROP_INDEX), atomic=False),
        migrations.RunPython(_on_postgresql(FILL_CELLS), migrations.RunPython.noop, atomic=True),
    ]
