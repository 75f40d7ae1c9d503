"""Timing one page the way the `bench_*` commands report it: median and 90th percentile of
`repeat` renders after one warm-up, and the set of query counts seen (one number when the page's
queries do not depend on its data)."""

import statistics
import time
from typing import TYPE_CHECKING

from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

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
