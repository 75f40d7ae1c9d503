"""Shared set-up for the pledge tests (issue 7)."""

import re
import uuid

import pytest
from celery import current_app
from django.core.cache import cache

VALID = {
    "organization_name": "Hudson & Pine LLP",
    "organization_kind": "law_firm",
    "city": "Albany",
    "state": "NY",
    "website": "https://hudsonpine.example",
    "contact_name": "Robin Counsel",
    "contact_email": "robin@hudsonpine.example",
    "contact_phone": "555-0100",
    "kind": "cases",
    "amount": "4",
    "period_start": "2026-01-01",
    "period_end": "2027-01-01",
    "message": "Glad to help.",
    "public": "on",
}


def form_data(**changes) -> dict:
    return VALID | changes


@pytest.fixture
def fresh_cache(settings):
    """Rate-limit counters and cached wall totals in a cache of this test's own: the default
    file cache under var/ is shared with any other test run on this machine, whose
    `cache.clear()` would reset a counter in the middle of a rate-limit test."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"pledges-{uuid.uuid4().hex}",
        }
    }
    yield
    cache.clear()


@pytest.fixture
def eager_tasks():
    """Run tasks in-process when enqueued (the publishing path itself is tested in REL-2)."""
    conf = current_app.conf
    before = {name: conf.get(name) for name in ("task_always_eager", "task_eager_propagates")}
    conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    conf.update(**before)


def link_from(message, name: str) -> str:
    """The path of the named link (confirm or manage) in a sent email."""
    match = re.search(rf"https?://[^/\s]+(/pledges/{name}/[^\s\"]+/)", message.body)
    assert match, message.body
    return match.group(1)
