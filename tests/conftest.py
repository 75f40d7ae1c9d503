"""The cast (SECURITY.md actors) and real-service fixtures shared by every test."""

import os
import subprocess
import sys
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
