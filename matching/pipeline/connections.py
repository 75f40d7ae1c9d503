"""A second database connection for one piece of work, so PostgreSQL can spend two cores on it.

Django's connections are per thread: the second one lives in a thread of its own, which runs the
calls given to it in turn. It holds one transaction from the start of the block until
:meth:`SecondConnection.commit`; leaving the block without committing rolls it back, and the
connection is closed either way (a run's worker keeps no idle connection).
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import DatabaseError, connection, transaction


class SecondConnection:
    def __enter__(self) -> "SecondConnection":
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="second-connection")
        self.committed = False
        try:
            self.call(_begin).result()
        except BaseException:
            self.call(_close).result()
            self.thread.shutdown()
            raise
        return self

    def call(self, function: Callable[..., Any], *args: Any) -> Future:
        """Run ``function(*args)`` on the second connection, after the calls before it."""
        return self.thread.submit(function, *args)

    def commit(self) -> None:
        self.call(_end, True).result()
        self.committed = True

    def __exit__(self, *exc_info: object) -> None:
        try:
            if not self.committed:  # (after a statement still running)
                self.call(_end, False).result()
        except DatabaseError:
            pass  # the connection is gone, and its transaction with it
        finally:
            self.call(_close).result()
            self.thread.shutdown()


# Each runs in the second connection's thread, where ``connection`` is that thread's own.


def _begin() -> None:
    transaction.set_autocommit(False)


def _end(commit: bool) -> None:
    try:
        connection.commit() if commit else connection.rollback()
    finally:
        transaction.set_autocommit(True)


def _close() -> None:
    connection.close()
