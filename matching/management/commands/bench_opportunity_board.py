"""Benchmark: the attorney's opportunity board on whatever the database holds (seed_scale).

Renders /attorney/opportunities/ with Django's test client, signed in as two verified attorneys
with free capacity: the one whose board is widest (a Spanish speaker who works remotely: most
open cases fit, so every filter has to find its rows in the urgency order) and one who speaks
no Spanish (few cases fit: the rows are spread thin over the whole table). For each, the first
page, every filter and the second page; prints the median render time and the queries per page.
Not a test; it writes nothing.

    python manage.py bench_opportunity_board --repeat 15 [--json]
"""

import json
import re

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Exists, F, OuterRef, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.bench import bench_client, page_measure
from volunteers.models import AttorneyLanguage, AttorneyProfile

TARGET_MS = 300


class Command(BaseCommand):
    help = "Median render time and query count of the opportunity board, first page and filters."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=15, help="Renders per page (median).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, repeat: int, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        open_cases = CaseRequest.objects.filter(status=CaseRequest.Status.OPEN).count()
        figures = {}
        for label, attorney in _attorneys().items():
            client = bench_client(attorney.user)
            figures[label] = {
                name: _measure(client, url, repeat) for name, url in _urls(client, attorney)
            }
        if options["json"]:
            payload = {"repeat": repeat, "open_cases": open_cases, "boards": figures}
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"{open_cases:,} open cases, {repeat} renders per page")
        for label, pages in figures.items():
            self.stdout.write(label)
            for name, page in pages.items():
                flag = "" if page["median_ms"] <= TARGET_MS else f"  (over {TARGET_MS} ms)"
                self.stdout.write(
                    f"  {name:>22}: median {page['median_ms']:.0f} ms, p90 {page['p90_ms']:.0f}"
                    f" ms, queries {page['queries']}, rows {page['rows']}{flag}"
                )


def _attorneys() -> dict[str, AttorneyProfile]:
    available = AttorneyProfile.objects.filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=timezone.localdate()),
        verification=AttorneyProfile.Verification.VERIFIED,
        active_cases__lt=F("capacity"),
    ).select_related("user")
    spanish = AttorneyLanguage.objects.filter(attorney=OuterRef("pk"), language_id="spa")
    wide = (
        available.filter(Exists(spanish), remote_ok=True)
        .annotate(areas=Count("practice_area_links"))
        .order_by("-areas", "pk")
        .first()
    )
    narrow = available.exclude(Exists(spanish)).order_by("pk").first()
    picked = {"Spanish, remote (widest board)": wide, "no Spanish (sparse board)": narrow}
    found = {label: attorney for label, attorney in picked.items() if attorney is not None}
    if not found:
        raise CommandError("No verified attorney with free capacity: run seed_scale first.")
    return found


def _urls(client: Client, attorney: AttorneyProfile):
    """The first page, one URL per filter (values from the first page's own rows), page 2."""
    board = reverse("volunteers:opportunities")
    first = client.get(board)
    if first.status_code != 200:
        raise CommandError(f"{board}: status {first.status_code}")
    yield "first page", board
    case = _first_row(first.content.decode())
    if case is not None:
        yield "language", f"{board}?language={case.language_id}"
        yield "court", f"{board}?court={case.court_id}"
        yield "case type", f"{board}?case_type={case.case_type_id}"
    yield "detained", f"{board}?detained=yes"
    yield "hearing within 14 days", f"{board}?hearing_within_days=14"
    yield "remote", f"{board}?remote=on"
    yield (
        "all filters",
        (
            f"{board}?detained=no&remote=on&hearing_within_days=60"
            + (f"&language={case.language_id}" if case else "")
        ),
    )
    link = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode())
    if link:
        yield "second page", f"{board}?{link.group(1).replace('&amp;', '&')}"


def _first_row(page: str) -> CaseRequest | None:
    found = re.search(r'data-case="([^"]+)"', page)
    if found is None:
        return None
    return CaseRequest.objects.only("language", "court", "case_type").get(reference=found[1])


def _measure(client: Client, url: str, repeat: int) -> dict:
    figures, response = page_measure(client, url, repeat)
    return {**figures, "rows": len(re.findall(r'data-case="', response.content.decode()))}
