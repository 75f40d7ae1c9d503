"""Benchmark: one weekly digest run over the whole database (issue 13: 50,000 attorneys and
1,000,000 open cases within 10 minutes).

Sends every due attorney's digest chunk by chunk, in this process, through the same service the
worker's chunk tasks call (volunteers.digest.attorney_digests_send), into Django's in-memory
mail backend (emptied after each chunk). Prints the total, the time and the queries of each
chunk, and what was sent. ``--reset`` makes everyone due first (clears ``last_digest_at``);
without it a second run finds nobody due, as the weekly beat would. Not a test.

    DEBUG=1 python manage.py seed_scale --attorneys 50000 --cases 1000000 --reset
    DEBUG=1 python manage.py bench_digest --reset [--chunk-size 500] [--chunks N] [--json]
"""

import json
import multiprocessing
import statistics
import time

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from cases.models import CaseRequest
from volunteers.digest import attorney_digests_send, digest_chunks, digest_due_ids
from volunteers.models import AttorneyProfile


class Command(BaseCommand):
    help = "Time one weekly digest run, chunk by chunk, with the in-memory mail backend."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument("--chunks", type=int, default=None, help="stop after N chunks")
        parser.add_argument("--reset", action="store_true", help="make every attorney due")
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--processes", type=int, default=1,
            help="chunks in N processes at once, as a worker with --concurrency N runs them",
        )  # fmt: skip

    def handle(self, *args, chunk_size, chunks, reset, json: bool, processes: int, **options):
        # The in-memory mail backend (it serialises each message as a real backend would):
        # nothing leaves this machine. Not setup_test_environment(), which would also
        # instrument every template render and slow the figures down.
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        if reset:
            AttorneyProfile.objects.update(last_digest_at=None)
        started = time.perf_counter()
        ids = digest_due_ids()
        fan_out = time.perf_counter() - started
        todo = list(digest_chunks(ids, chunk_size or settings.DIGEST_CHUNK_SIZE))[:chunks]
        if processes > 1:
            connections.close_all()  # each forked process opens its own connection
            with multiprocessing.get_context("fork").Pool(processes, connections.close_all) as pool:
                rows = list(pool.imap_unordered(_chunk, todo))
        else:
            rows = [_chunk(chunk) for chunk in todo]
        report = self._report(ids, rows, fan_out, time.perf_counter() - started, processes)
        if json:
            self.stdout.write(_json(report))
        else:
            for key, value in report.items():
                self.stdout.write(f"{key}: {value}")

    def _report(self, ids, rows, fan_out, total, processes) -> dict:
        seconds = [row["seconds"] for row in rows] or [0.0]
        queries = [row["queries"] for row in rows] or [0]
        done = sum(row["attorneys"] for row in rows)
        # All due attorneys at the pace of the chunks timed (one process's work per second).
        per_attorney = sum(seconds) / done if done else 0.0
        return {
            "attorneys_due": len(ids),
            "open_cases": CaseRequest.objects.filter(status=CaseRequest.Status.OPEN).count(),
            "chunks": len(rows),
            "attorneys_done": done,
            "mails_sent": sum(row["sent"] for row in rows),
            "items_listed": sum(row["items"] for row in rows),
            "fan_out_seconds": round(fan_out, 2),
            "total_seconds": round(total, 1),
            "chunk_seconds_median": round(statistics.median(seconds), 2),
            "chunk_seconds_max": round(max(seconds), 2),
            "queries_per_chunk_min": min(queries),
            "queries_per_chunk_max": max(queries),
            "processes": processes,
            "projected_seconds_all_due": round(fan_out + per_attorney * len(ids) / processes, 1),
        }


def _chunk(chunk: list[int]) -> dict:
    """One chunk, as the worker's chunk task runs it; its mails are counted, then dropped."""
    mail.outbox = []
    with CaptureQueriesContext(connection) as queries:
        begun = time.perf_counter()
        sent = attorney_digests_send(attorney_ids=chunk)
        seconds = time.perf_counter() - begun
    items = sum(message.body.count("Similar cases on the board") for message in mail.outbox)
    mail.outbox = []
    return {"attorneys": len(chunk), "sent": sent, "items": items, "seconds": seconds,
            "queries": len(queries.captured_queries)}  # fmt: skip


def _json(report: dict) -> str:
    return json.dumps(report, indent=2)
