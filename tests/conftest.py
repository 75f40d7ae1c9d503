"""The cast (SECURITY.md actors) and real-service fixtures shared by every test."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core.roles import coordinator_group_sync
from tests.factories import AttorneyFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing the cast's passwords with PBKDF2 would dominate the suite's runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache. What the cache holds (rate-limit and
    refused-access counters, memoised figures) is not rolled back with the test's transaction,
    but on SQLite the row ids are, so a count one test leaves under `user.pk` would land on the
    next test's user with that id (tests/test_cache_isolation.py); and the file cache or Redis
    outlives the run. Ids are never reused outside tests: PostgreSQL sequences and SQLite's
    AUTOINCREMENT do not hand out a committed id again, so the counters' keys are left as they
    are. In CI the cache is a Redis database of its own (.ci/run), which this empties."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_eager():
    """Run tasks in-process, so an email enqueued after commit lands in mail.outbox."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def coord(db):
    """A coordinator: staff with the Coordinators group's model permissions."""
    user = UserFactory(username="coord@example.org", is_staff=True)
    user.groups.add(coordinator_group_sync())
    return _with_totp(user)


@pytest.fixture
def staff_plain(db):
    return _with_totp(UserFactory(username="staff-plain@example.org", is_staff=True))


def _with_totp(user):
    """Staff must have TOTP to open the admin (SEC-9): the cast's staff have an authenticator."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def att_a(db):
    return AttorneyFactory(user__username="att-a@example.org")


@pytest.fixture
def att_b(db):
    return AttorneyFactory(user__username="att-b@example.org")


@pytest.fixture
def att_new(db):
    return AttorneyFactory(user__username="att-new@example.org", verification="pending")


def _database_url_for_tests() -> str:
    """The URL of the database the tests are using, for processes started by the tests."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_queue(transactional_db, tmp_path):
    """A real `celery worker` process on its own queue, against the test database.

    Uses whatever broker the settings name: Redis in CI, the filesystem transport on the
    embedded defaults. Yields the queue name; the worker is stopped afterwards.
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
         "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


class ConnectionGuard:
    """A test that leaves a connection to the test database open fails (PostgreSQL).

    Django gives each thread its own connection, and a thread that ends without closing it
    (`close_old_connections()` keeps one younger than CONN_MAX_AGE) leaves it open until garbage
    collection: later tests that count connections then read one too many (CI on 074dad4). After
    each test that can reach the database, one query on a connection of its own (to the
    maintenance database, so the test database can still be dropped) lists the other
    connections to the test database; one that was not there after the previous such test, and
    is not this process's own (main-thread) connection, was left by this test. A connection that
    has just closed can be listed while its server process exits, so those are polled for a
    moment first. Session fixtures that keep a connection (none do: live_server's request
    threads close theirs, Celery workers are stopped with their test) would be counted once.
    Leaks it found: tests.races and other test threads that ended with close_old_connections(),
    and the browser tests' reads while Playwright's loop ran (tests/e2e/conftest.py, browser).
    """

    SETTLE_SECONDS = 3.0

    def __init__(self) -> None:
        self.probe = None
        self.seen: set[int] | None = None  # listed after the last test

    def _listed(self) -> dict[int, str]:
        import psycopg

        db = connection.settings_dict
        if self.probe is None:
            self.probe = psycopg.connect(
                host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                password=db["PASSWORD"] or None, dbname="postgres", autocommit=True,
                application_name="tests-connection-guard",
            )  # fmt: skip
        rows = self.probe.execute(
            "SELECT pid, concat_ws(', ', application_name, state, left(query, 120)) "
            "FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            [db["NAME"]],
        ).fetchall()
        return dict(rows)

    def baseline(self) -> None:
        if self.seen is None:
            self.seen = set(self._listed())

    def left_open(self) -> dict[int, str]:
        """The connections opened since the last call (or `baseline()`) and still open, other
        than the main thread's own."""
        from django.db import connections

        own = {
            wrapper.connection.info.backend_pid
            for wrapper in connections.all(initialized_only=True)
            if wrapper.connection is not None and not wrapper.connection.closed
        }
        deadline = time.monotonic() + self.SETTLE_SECONDS
        while True:
            listed = self._listed()
            new = {pid: what for pid, what in listed.items() if pid not in self.seen | own}
            if not new or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self.seen = set(listed)
        return new

    def close(self) -> None:
        if self.probe is not None:
            self.probe.close()


connection_guard = ConnectionGuard()


def _guarded(item) -> bool:
    return connection.vendor == "postgresql" and "django_db_setup" in item.fixturenames


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    result = yield
    if _guarded(item):
        connection_guard.baseline()  # once: the first test's setup created the test database
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    if _guarded(item):
        left = connection_guard.left_open()
        if left:
            pytest.fail(
                "The test left connections to the test database open (a thread's, say: end it "
                "with connections.close_all()):\n"
                + "\n".join(f"  pid {pid}: {what}" for pid, what in sorted(left.items())),
                pytrace=False,
            )
    return result


def pytest_sessionfinish(session):
    connection_guard.close()
