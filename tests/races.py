"""Calls run at the same instant in threads, each on its own database connection (PostgreSQL
tests with transaction=True): what a double click or a retried request does to a service.

Each thread closes its connections as it ends: `close_old_connections()` keeps one younger than
CONN_MAX_AGE (60 s here), and a thread's connection left open stays until garbage collection,
seen by later tests that count the connections to the database (tests/conftest.py)."""

import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.db import connections


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once; return what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    return _in_threads([(barrier.wait, call) for call in calls], timeout=30)


def race_held(
    first: Callable[[], Any],
    second: Callable[[], Any],
    *,
    hold: tuple[Any, str],
    seconds: float = 1.5,
) -> list[Any]:
    """Run ``first`` until it has called ``hold`` (an object and the name of a function on it,
    patched for the duration): it then keeps its transaction open for ``seconds`` while
    ``second`` starts. A row lock makes the second wait and find the first's work done; without
    it the second reads the rows as they were before the first (nothing committed yet) and acts
    on that. Returns what each returned or raised. Deterministic but for a machine so slow that
    the second has not read within ``seconds``: the test then passes, it never fails wrongly."""
    target, name = hold
    original = getattr(target, name)
    first_holds = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        if threading.current_thread().name == "first":
            first_holds.set()
            time.sleep(seconds)
        return value

    def after_the_first_holds() -> None:
        first_holds.wait(timeout=30)

    with mock.patch.object(target, name, held):
        return _in_threads(
            [(lambda: None, first), (after_the_first_holds, second)],
            timeout=60,
            names=["first", "second"],
        )


def _in_threads(
    calls: list[tuple[Callable[[], Any], Callable[[], Any]]],
    *,
    timeout: float,
    names: list[str] | None = None,
) -> list[Any]:
    """Each (wait, call) in a thread of its own: wait, then call; what each call returned or
    raised, in order. Each thread closes its database connection."""
    results: list[Any] = [None] * len(calls)

    def run(i: int, wait: Callable[[], Any], call: Callable[[], Any]) -> None:
        wait()
        try:
            results[i] = call()
        except Exception as error:  # returned: the test asserts on it
            results[i] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, wait, call), name=names[i] if names else None)
        for i, (wait, call) in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
