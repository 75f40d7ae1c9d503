"""Calls run at the same instant in threads, each on its own database connection (PostgreSQL
tests with transaction=True): what a double click or a retried request does to a service."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once; return what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as error:  # returned: the test asserts on it
            results[i] = error
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
