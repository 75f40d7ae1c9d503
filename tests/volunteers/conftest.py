import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth's rate-limit counters live in the shared cache: start every test from zero."""
    cache.clear()
    yield
    cache.clear()
