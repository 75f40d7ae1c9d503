"""Timing one page the way the `bench_*` commands report it: median and 90th percentile of
`repeat` renders after one warm-up, and the set of query counts seen (one number when the page's
queries do not depend on its data); and the coordinator the admin pages are measured as."""

import contextlib
import statistics
import time
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from core.roles import coordinator_group_sync, staff_has_totp

if TYPE_CHECKING:  # the test client's response type exists in django-stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse


def page_measure(client: Client, url: str, repeat: int) -> tuple[dict, "TestResponse"]:
    """The figures of `url`, and its last response (for what the caller counts on the page).
    A page that does not answer 200 stops the benchmark: its timings would mean nothing."""
    response = client.get(url)  # warm caches and check the page renders at all
    if response.status_code != 200:
        raise CommandError(f"{url}: status {response.status_code}")
    times, queries = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured))
        if response.status_code != 200:
            raise CommandError(f"{url}: status {response.status_code}")
    times.sort()
    figures = {
        "url": url,
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[max(0, int(len(times) * 0.9) - 1)], 1),
        "queries": sorted(queries),
    }
    return figures, response


def bench_coordinator(username: str = "bench-coordinator@example.org"):
    """A coordinator with a TOTP authenticator, as the admin wants its staff (SEC-9: staff
    without one are sent to set it up, a 302 the benchmarks would time instead of the page)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"email": username, "is_staff": True}
    )
    user.groups.add(coordinator_group_sync())
    if not staff_has_totp(user):
        TOTP.activate(user, generate_totp_secret())
    return user


def bench_client(user) -> Client:
    """A test client signed in as ``user``, after Django's test environment is set up (so that
    responses carry their context; already done when a test runs the command)."""
    with contextlib.suppress(RuntimeError):
        setup_test_environment()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client
