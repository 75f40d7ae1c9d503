"""One full matching run on whatever the database holds, with its figures: `benchmark_matching`.

The solver's own time is printed beside the whole run's, so the cost of loading, scoring and
writing stays visible. The run is a real one: it writes proposals like any scheduled run.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from matching.models import MatchingRun
from matching.pipeline.run import matching_run
from matching.scale.measure import PssPeak


class Command(BaseCommand):
    help = (
        "Run matching once and print phase times, peak RSS and PSS (with the greedy child), "
        "objective and greedy objective."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        with PssPeak() as pss:
            run = matching_run(trigger="benchmark")
        if run.status == MatchingRun.Status.SKIPPED:
            raise CommandError("Another matching run holds the lock; try again when it ends.")
        figures = figures_of(run)
        # The run's own peak memory with its greedy child, pages they share counted once.
        figures["peak_pss_mib"] = pss.mib
        if options["json"]:
            self.stdout.write(_dumps(figures))
            return
        for name, value in figures.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            self.stdout.write(f"{name:>22}: {value}")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=False)


def figures_of(run: MatchingRun) -> dict:
    stats = run.stats or {}
    seconds = stats.get("seconds", {})
    return {
        "run": run.pk,
        "status": run.status,
        "cases_considered": run.cases_considered,
        "attorneys_considered": run.attorneys_considered,
        "cells": run.cells,
        "arcs": run.arcs,
        "components": stats.get("components"),
        "seconds_total": seconds.get("total"),
        "seconds_solver": seconds.get("solve"),
        "seconds": seconds,
        "write_seconds": stats.get("write_seconds", {}),
        "peak_rss_mib": stats.get("peak_rss_mib"),
        # The greedy baseline's forked child: its RSS counts the pages it shares with the run.
        "greedy_child_peak_rss_mib": stats.get("greedy_child_peak_rss_mib"),
        "objective": run.objective,
        "greedy_objective": run.greedy_objective,
        "gain_over_greedy_percent": _gain(run.objective, run.greedy_objective),
        "cases_assigned": stats.get("assigned"),
        "greedy_assigned": stats.get("greedy_assigned"),
        "proposals_written": run.proposals,
    }


def _gain(objective: int | None, greedy: int | None) -> float | None:
    if not objective or not greedy:
        return None
    return round(100 * (objective - greedy) / greedy, 3)
