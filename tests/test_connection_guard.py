"""The guard in tests/conftest.py: a connection a test leaves open is reported, a closed one not."""

import threading

import pytest
from django.db import connection, connections

from tests.conftest import ConnectionGuard, connection_guard

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_stat_activity"),
]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_threads_connection_left_open_is_reported_and_not_once_closed(monkeypatch):
    monkeypatch.setattr(ConnectionGuard, "SETTLE_SECONDS", 0.2)
    assert connection_guard.left_open() == {}
    opened, release, pids = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            pids.append(_backend_pid())
            opened.set()
            release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert opened.wait(timeout=10)
    held = connection_guard.left_open()
    release.set()
    thread.join(timeout=10)

    assert list(held) == pids and _backend_pid() not in held  # this thread's own is not counted
    monkeypatch.setattr(ConnectionGuard, "SETTLE_SECONDS", 3.0)  # time for its server to exit
    connection_guard.seen = set()  # every connection listed is new: the thread's is gone
    assert connection_guard.left_open() == {}
