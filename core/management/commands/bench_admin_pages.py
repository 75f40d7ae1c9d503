"""Benchmark: the coordinator's busiest admin pages on whatever the database holds.

Renders the match changelist (the review queue), the case request changelist, the need
dashboard and, when there is a proposed match, the match detail with its "next best attorneys"
(for the most urgent proposal in the most common language, Spanish at scale) with Django's
test client, logged in as a coordinator who has a TOTP authenticator (the
admin refuses staff without one, SEC-9), and prints the median render time and the query count of
each page. Not a test; it writes nothing but the benchmark coordinator.

    python manage.py bench_admin_pages --repeat 20 [--json]
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.urls import reverse

from core.bench import bench_client, bench_coordinator, page_measure
from matching.models import Match

USERNAME = "bench-coordinator@example.org"
PAGES = {
    "match changelist": "admin:matching_match_changelist",
    "case changelist": "admin:cases_caserequest_changelist",
    "dashboard": "admin:dashboard",
}


class Command(BaseCommand):
    help = "Median render time and query count of the match and case changelists and dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20, help="Renders per page (median).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, repeat: int, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        client = bench_client(bench_coordinator(USERNAME))
        urls = {name: reverse(url) for name, url in PAGES.items()}
        detail = _detail_match()
        if detail is not None:
            urls["match detail"] = reverse("admin:matching_match_change", args=[detail])
        figures = {name: page_measure(client, url, repeat)[0] for name, url in urls.items()}
        if options["json"]:
            self.stdout.write(json.dumps({"repeat": repeat, "pages": figures}))
            return
        for name, page in figures.items():
            self.stdout.write(
                f"{name:>18}: median {page['median_ms']:.0f} ms, "
                f"p90 {page['p90_ms']:.0f} ms, queries {page['queries']}"
            )


def _detail_match() -> int | None:
    """The most urgent proposal whose case is in the language with the most proposals."""
    proposed = Match.objects.filter(status=Match.Status.PROPOSED)
    top = (
        proposed.order_by()
        .values_list("case__language")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    if top is None:
        return None
    match = proposed.filter(case__language=top[0]).order_by("-case__priority", "pk").first()
    return None if match is None else match.pk
