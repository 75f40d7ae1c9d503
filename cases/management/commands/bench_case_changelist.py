"""Benchmark: the case request changelist with a large backlog (default 100,000 requests).

Tops the database up to N case requests (bulk_create, marked with a benchmark summary), then
renders the admin changelist repeatedly with Django's test client, as a coordinator with a TOTP
authenticator (core.bench; the admin sends staff without one to set it up, SEC-9), and prints
the median and the query count per page ("page 100": the last one on a smaller backlog). Not a
test. ``--cleanup`` removes the benchmark rows afterwards.

    DEBUG=1 python manage.py bench_case_changelist --rows 100000 --repeat 20
"""

import random
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from cases.crypto import a_number_hash
from cases.models import CaseRequest, CaseType, ImmigrationCourt
from cases.priority import case_priority
from core.bench import bench_client, bench_coordinator, page_measure

MARK = "Benchmark row (bench_case_changelist)."
USERNAME = "bench-changelist@example.org"
PAGES = {
    "default": {},
    "filtered": {"status": "open", "language": "spa", "band": "high"},
    "search by reference": {"q": "PBM-ZZZZZZZZ"},
    "page 100": {"p": "100"},
}


class Command(BaseCommand):
    help = "Median render time of the case request changelist over a large backlog."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--cleanup", action="store_true")

    def handle(self, *args, rows, repeat, cleanup, **options):
        self._top_up(rows)
        user = bench_coordinator(USERNAME)
        client = bench_client(user)
        url = reverse("admin:cases_caserequest_changelist")
        count = CaseRequest.objects.count()
        self.stdout.write(f"{count} case requests")
        per_page = admin.site.get_model_admin(CaseRequest).list_per_page
        last = max(1, -(-count // per_page))
        for label, query in PAGES.items():
            if "p" in query:  # a page past the last one redirects to an error page
                query = {**query, "p": str(min(int(query["p"]), last))}
            page, _ = page_measure(client, f"{url}?{urlencode(query)}", repeat)
            self.stdout.write(
                f"{label:>20}: median {page['median_ms']:.0f} ms, "
                f"p90 {page['p90_ms']:.0f} ms, queries {page['queries']}"
            )
        if cleanup:
            deleted, _ = CaseRequest.objects.filter(summary=MARK).delete()
            user.delete()
            self.stdout.write(f"Removed {deleted} benchmark rows.")

    def _top_up(self, rows: int) -> None:
        missing = rows - CaseRequest.objects.count()
        if missing <= 0:
            return
        rng = random.Random(7)  # noqa: S311 - benchmark data
        courts = list(ImmigrationCourt.objects.all())
        types = list(CaseType.objects.filter(detained_only=False))
        languages = ["spa"] * 8 + ["mam", "quc", "hat", "por", "cmn", "pan", "ara", "rus"]
        today = timezone.localdate()
        start = rng.randrange(100_000_000, 500_000_000)
        self.stdout.write(f"Creating {missing} case requests…")
        batch = []
        for i in range(missing):
            batch.append(_case(rng, i + start, courts, types, languages, today))
            if len(batch) == 5000:
                CaseRequest.objects.bulk_create(batch)
                batch = []
        CaseRequest.objects.bulk_create(batch)


def _case(rng, number, courts, types, languages, today):
    detained = rng.random() < 0.2
    hearing = today + timedelta(days=rng.randrange(1, 400))
    parts = case_priority(
        detained=detained,
        next_hearing_date=hearing,
        filing_deadline=None,
        waiting_since=today,
        today=today,
    )
    canonical = f"{number:09d}"
    return CaseRequest(
        respondent_name=f"Bench Person {number}",
        a_number=canonical,
        a_number_hash=a_number_hash(canonical),
        language_id=rng.choice(languages),
        court=rng.choice(courts),
        case_type=rng.choice(types),
        detained=detained,
        next_hearing_date=hearing,
        summary=MARK,
        source=CaseRequest.Source.IMPORT,
        priority=parts.total,
        priority_parts=parts.as_dict(),
    )
