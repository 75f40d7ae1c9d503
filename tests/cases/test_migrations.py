"""Migrations that index the big tables build their indexes without blocking writes.

On PostgreSQL a plain CREATE INDEX (or a UNIQUE added by ALTER TABLE) blocks writes to the table
for as long as it scans it: 13 s at 1M cases for migration 0012's two indexes, 75 s at 3.7M.
The SQL is what `sqlmigrate` prints, collected in one pass over the whole plan.
"""

import functools
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from tests.conftest import ROOT
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db(transaction=True)  # non-atomic migrations' SQL
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="CONCURRENTLY")

BIG_TABLES = r'"?(?:cases_caserequest|matching_match)"?\b'
BLOCKING = re.compile(
    rf"^(CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)[^;]* ON {BIG_TABLES}"
    rf"|ALTER TABLE {BIG_TABLES} [^;]*\bUNIQUE\b)",
    re.IGNORECASE,
)
# Still plain, each for its reason (none is run again on a database that applied it):
KNOWN = {
    # the tables' first indexes, created with them (0001 and 0002 make the case table)
    ("cases", "0001_initial"),
    ("cases", "0002_initial"),
    ("matching", "0001_initial"),
    # a new column's unique and foreign key indexes, under the ALTER TABLE's own lock
    ("cases", "0003_protected_identifiers"),
    # unique=True swapped for named unique constraints: the swap needs the transaction
    ("cases", "0005_lean_indexes"),
}


@functools.cache
def _sql_by_migration() -> dict[tuple[str, str], list[str]]:
    """Each migration of the project's apps (and of what they depend on), with its SQL as
    `sqlmigrate` prints it (a few operations ask the database: it is migrated)."""
    executor = MigrationExecutor(connection)
    ours = [leaf for leaf in executor.loader.graph.leaf_nodes() if _in_project(leaf[0])]
    plan = executor.migration_plan(ours, clean_start=True)
    state = ProjectState(real_apps=executor.loader.unmigrated_apps)
    sql = {}
    for migration, _ in plan:
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            state = migration.apply(state, editor, collect_sql=True)
        sql[migration.app_label, migration.name] = editor.collected_sql
    return sql


def _in_project(label: str) -> bool:
    return Path(apps.get_app_config(label).path).is_relative_to(ROOT)


@on_postgresql
def test_no_migration_builds_an_index_on_the_cases_or_matches_while_blocking_writes():
    blocking = {
        key: [s for s in statements if BLOCKING.match(s)]
        for key, statements in _sql_by_migration().items()
        if key not in KNOWN
    }
    assert {key: found for key, found in blocking.items() if found} == {}


def test_the_small_runs_indexes_are_built_concurrently_on_postgresql_only():
    sql = _sql_by_migration()[("cases", "0012_case_cell_priority_idx")]
    built = [s.split(" ON ")[0] for s in sql if s.startswith("CREATE INDEX")]
    if connection.vendor == "postgresql":
        assert built == [
            'CREATE INDEX CONCURRENTLY "case_cell_priority_idx"',
            'CREATE INDEX CONCURRENTLY "case_relay_pair_idx"',
        ]
    else:  # SQLite: plain indexes, as before
        assert built == [
            'CREATE INDEX "case_cell_priority_idx"',
            'CREATE INDEX "case_relay_pair_idx"',
        ]


def test_the_admin_filter_indexes_replace_the_old_ones_concurrently_on_postgresql_only():
    """Each new index is built before the one it replaces is dropped, neither blocking writes."""
    sql = _sql_by_migration()[("cases", "0018_case_admin_filter_indexes")]
    sql += _sql_by_migration()[("matching", "0007_match_returned_case_idx")]
    done = [s.split(" ON ")[0].rstrip(";") for s in sql if s.startswith(("CREATE", "DROP"))]
    postgresql = connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    assert done == [
        f'CREATE INDEX {concurrently}"case_type_order_idx"',
        f'DROP INDEX {"CONCURRENTLY IF EXISTS " if postgresql else ""}"case_case_type_idx"',
        f'CREATE INDEX {concurrently}"case_court_order_idx"',
        f'DROP INDEX {concurrently}IF EXISTS "cases_caserequest_court_id_5733bb37"',
        f'CREATE INDEX {concurrently}"case_outcome_order_idx"',
        f'CREATE INDEX {concurrently}"match_returned_case_idx"',
    ]


def _index(name: str) -> tuple[int, bool, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::int, indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = to_regclass(%s)",
            [name],
        )
        return cursor.fetchone()


@on_postgresql
def test_0012_run_again_keeps_the_index_it_built_and_rebuilds_one_a_failed_build_left():
    """Not atomic: a migration stopped part way is run again over what it left."""
    loader = MigrationLoader(connection)
    cell, relay = loader.get_migration("cases", "0012_case_cell_priority_idx").operations
    before = loader.project_state(("cases", "0011_case_outcomes"))
    after = loader.project_state(("cases", "0012_case_cell_priority_idx"))
    CaseRequestFactory.create_batch(2, detained=False)
    # What a CONCURRENTLY build that fails leaves: an invalid index of that name.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX case_relay_pair_idx")
        with pytest.raises(IntegrityError):
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY case_relay_pair_idx ON cases_caserequest "
                "(detained)"
            )
    assert _index("case_relay_pair_idx")[1] is False
    built = _index("case_cell_priority_idx")

    with connection.schema_editor(atomic=False) as editor:
        cell.database_forwards("cases", editor, before, after)
        relay.database_forwards("cases", editor, before, after)

    assert _index("case_cell_priority_idx") == built
    _, valid, definition = _index("case_relay_pair_idx")
    assert valid and "(relay_language_id, language_id) WHERE" in definition
