"""Migration operations shared by the apps' migrations."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """AddIndex (the same migration state) that PostgreSQL builds CONCURRENTLY.

    A plain CREATE INDEX blocks writes to the table for as long as it scans it (75 s on the case
    table at 3.7M cases, see cases/migrations/0014); CONCURRENTLY takes no write lock but cannot
    run in a transaction, so its migration sets ``atomic = False``. Elsewhere (SQLite) the index
    is added as AddIndex adds it.

    Without a transaction, a migration that fails part way keeps what its earlier operations
    built: run again, an index of this name that is already valid is kept, and one left invalid
    by a failed CONCURRENTLY build (PostgreSQL keeps those) is dropped and built again.
    """

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        # sqlmigrate (collect_sql) shows the statement whatever the database holds.
        valid = None if schema_editor.collect_sql else self._existing_is_valid(schema_editor)
        if valid:
            return
        if valid is False:
            name = schema_editor.quote_name(self.index.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def _existing_is_valid(self, schema_editor) -> bool | None:
        """Whether an index of this name exists and is valid; None if there is none."""
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
                [schema_editor.quote_name(self.index.name)],
            )
            row = cursor.fetchone()
        return None if row is None else bool(row[0])


class RemoveIndexConcurrentlyOnPostgreSQL(RemoveIndexConcurrently):
    """RemoveIndex (the same migration state) that PostgreSQL drops CONCURRENTLY: a plain DROP
    INDEX waits for, then blocks, every read and write of the table. Its migration sets
    ``atomic = False``; elsewhere (SQLite) the index is dropped as RemoveIndex drops it. Run
    again, an index already dropped is passed over (DROP INDEX CONCURRENTLY IF EXISTS)."""

    def describe(self) -> str:
        return f"Remove index {self.name} from {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)
