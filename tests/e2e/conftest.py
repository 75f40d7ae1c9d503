import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth's rate limits live in the shared cache: a rerun must not inherit them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _async_unsafe_allowed(monkeypatch):
    """Playwright's sync API runs an event loop in the test's thread; the ORM calls made between
    browser steps are ordinary synchronous code. Set for these tests only: a process started by
    another test (check --deploy) must not inherit it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
