"""Reads on other connections, in the snapshot of this one (PostgreSQL).

At a million open cases the case aggregates keep a PostgreSQL backend busy for over a second
while Python waits, and reading the attorneys and computing their distances is Python and numpy
work while PostgreSQL idles: run at once, on two connections for the two halves of the case
table and this one for the rest, they use both of the machine's cores instead of one. Every
read must see one database state, so each other connection's transaction imports this one's
REPEATABLE READ snapshot (``pg_export_snapshot``, then ``SET TRANSACTION SNAPSHOT`` before its
first query): a row committed meanwhile is seen by none of them.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.db import connection, transaction

type Submit = Callable[[Callable[[], object]], Future]


@contextmanager
def beside(workers: int) -> Iterator[Submit]:
    """A ``submit(read)`` that runs ``read`` in a thread, on that thread's own connection, in
    this connection's snapshot, and returns its future; up to ``workers`` at once.

    The caller's transaction must be a REPEATABLE READ one that began here (``snapshot()``
    when it opens the transaction): an exported snapshot lives as long as its transaction, and
    one inside a test's or a caller's transaction would miss what they have not committed.
    Leaving the block waits for every read, so the snapshot outlives them even on an error.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (exported,) = cursor.fetchone()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-beside") as pool:
        yield lambda read: pool.submit(_in_snapshot, exported, read)


def _in_snapshot[T](exported: str, read: Callable[[], T]) -> T:
    # Django gives each thread its own connection; this one ends with the read.
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [exported])
            return read()
    finally:
        connection.close()
