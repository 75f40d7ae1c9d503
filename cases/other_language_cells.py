"""Upkeep of cases_other_language_cell (migration cases/0014; PostgreSQL only).

The small matching run (matching/pipeline/load/small.py) reads that list as a superset of the
cells holding a case with other languages that is not closed. Triggers add a row, in the
transaction that changes the case, whenever a case enters a cell; nothing removes one, so cells
whose cases all closed stay, each costing a small run an index probe. The pruning here deletes
them and keeps the superset whatever runs meanwhile.
"""

import logging

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

CELLS = "cases_other_language_cell"
# How long the prune waits for the transactions that noted a cell (the lock below); writers
# noting a cell queue behind it meanwhile. Not free by then (a long import batch): next night.
LOCK_TIMEOUT = "2s"
LOCK_NOT_AVAILABLE = "55P03"

COLUMNS = "other_languages_key, language_id, case_type_id, detained, court_id, remote_ok, relay"
# A listed cell that no case that is not closed holds: the case's cell as the triggers write it,
# read from case_other_cell_priority_idx (0014, partial on the same two conditions).
EMPTY = """NOT EXISTS (
    SELECT 1 FROM cases_caserequest c
    WHERE c.closed_at IS NULL AND c.other_languages_key <> ''
      AND (c.other_languages_key, c.language_id, c.case_type_id, c.detained, c.court_id,
           c.remote_ok,
           COALESCE(CASE WHEN c.relay_interpreter_ok THEN c.relay_language_id ELSE NULL END, ''))
        = (o.other_languages_key, o.language_id, o.case_type_id, o.detained, o.court_id,
           o.remote_ok, o.relay)
)"""
CANDIDATES = f"SELECT {COLUMNS} FROM {CELLS} o WHERE {EMPTY}"  # noqa: S608 (constants only)
PRUNE = f"""
DELETE FROM {CELLS} o
WHERE ({COLUMNS}) IN (
    SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::boolean[],
                         %s::bigint[], %s::boolean[], %s::varchar[])
) AND {EMPTY}
"""  # noqa: S608 (constants only)


def case_other_language_cells_prune() -> int | None:
    """Delete the cells no case that is not closed holds; return how many (None: the lock was
    not free within LOCK_TIMEOUT, nothing deleted). 0 off PostgreSQL (no such table).

    1. Find the candidates, without a lock: a read of every case with other languages that is
       not closed (0.8 s at 1M cases, cold), while writers go on.
    2. Lock the list against writes (SHARE ROW EXCLUSIVE; the small runs' reads go on). A
       trigger that noted a cell holds ROW EXCLUSIVE on the list until its transaction ends,
       so the lock waits for every transaction that has put a case into a cell, and stops
       those that would until the prune commits.
    3. Delete the candidates still empty, checked again in a statement whose snapshot (READ
       COMMITTED) is taken after the lock: it sees every case those transactions committed.

    Without the lock, a delete could lose a cell: a transaction adds a case to a listed cell
    (its trigger's INSERT ... ON CONFLICT DO NOTHING finds the row and leaves it), the prune's
    snapshot does not see that uncommitted case and deletes the row, and the case commits
    unlisted; a snapshot check alone cannot see it, and the trigger does not run again. A
    trigger that runs after the prune committed finds no row and adds it. Closed cases never
    reopen (closed_at is only ever set, matching/services/closing.py): a row deleted here would
    not come back if one did, since the triggers do not watch closed_at.
    """
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(CANDIDATES)
        candidates = cursor.fetchall()
    if not candidates:
        return 0
    try:
        pruned = _prune(list(zip(*candidates, strict=True)))
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        logger.info("Other-language cells not pruned: the list stayed locked for %s.", LOCK_TIMEOUT)
        return None
    logger.info("Other-language cells pruned: %d of %d found empty.", pruned, len(candidates))
    return pruned


def _prune(columns: list[tuple]) -> int:
    """Steps 2 and 3, in one transaction; ``columns``: the candidates' values, column by column."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"LOCK TABLE {CELLS} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(PRUNE, [list(column) for column in columns])
        return cursor.rowcount
