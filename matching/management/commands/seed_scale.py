"""A backlog-scale world for benchmarks: `manage.py seed_scale --attorneys N --cases M`.

Distributions follow the demo world (core/demo.py: case languages, case types, court docket
sizes, attorney languages and proficiencies), drawn with numpy from one seed. Rows go in by COPY
on PostgreSQL (psycopg's ``cursor.copy()``) and by ``bulk_create`` elsewhere. Every scale row can
be found again: users have emails @scale.probono.test, case summaries start with "[scale]", and
``--reset`` deletes them (with their matches and the runs ``--matches`` made) before seeding, or
alone with ``--attorneys 0 --cases 0``.

``--matches N`` adds a match history over the scale cases and attorneys that are still free, as
if runs had proposed them daily for months and coordinators and attorneys had worked on them
(see seed_matches in matching/scale/matches.py).
"""

from time import perf_counter

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from cases.models import ImmigrationCourt

# The seeding lives in matching.scale; its entry points and markers stay importable from here.
from matching.scale import (
    BATCH,
    RUN_TRIGGER,
    SCALE_DOMAIN,
    SCALE_SUMMARY,
    copy_rows,
    scale_reset,
    seed_attorneys,
    seed_cases,
    seed_matches,
)

__all__ = [
    "BATCH",
    "RUN_TRIGGER",
    "SCALE_DOMAIN",
    "SCALE_SUMMARY",
    "Command",
    "copy_rows",
    "scale_reset",
    "seed_attorneys",
    "seed_cases",
    "seed_matches",
]


class Command(BaseCommand):
    help = "Seed N verified attorneys and M open cases with realistic distributions (benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--attorneys", type=int, default=0)
        parser.add_argument("--cases", type=int, default=0)
        parser.add_argument(
            "--matches", type=int, default=0, help="Match history over the scale rows."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="Delete scale rows first.")

    def handle(self, *args, attorneys, cases, seed, reset, matches=0, **options):
        if attorneys < 0 or cases < 0 or matches < 0:
            raise CommandError("--attorneys, --cases and --matches must not be negative.")
        courts = list(
            ImmigrationCourt.objects.filter(active=True).values_list(
                "pk", "code", "zip_code", "latitude", "longitude", "detained_only"
            )
        )
        if not courts:
            raise CommandError("No immigration courts: run migrate (or load_reference_data).")
        rng = np.random.default_rng(seed)
        started = perf_counter()
        if reset:
            self.stdout.write(f"reset: {scale_reset()} scale rows deleted")
        if attorneys:
            seed_attorneys(rng, attorneys, courts)
        if cases:
            seed_cases(rng, cases, courts)
        if matches:
            seed_matches(rng, matches)
        self.stdout.write(
            f"seeded {attorneys} attorneys, {cases} cases and {matches} matches "
            f"in {perf_counter() - started:.1f} s"
        )
