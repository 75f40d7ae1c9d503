import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth's rate-limit counters live in the shared cache: start every test from zero."""
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
