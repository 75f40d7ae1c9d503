"""How large a world one process solves: `manage.py bench_solver_scale --attorneys N --cases M`.

Draws the seeded national world seed_scale would write (matching/scale/synthetic.py), scores it
into the run's problem (arcs and remote-work hubs) and solves it exactly with the run's own
``solve_component``, without the database. Prints each phase's seconds, its peak and final
resident memory, the graph's size and the optimum; the last line is JSON. docs/scaling.md
collects the figures. Run it under ``nice -n 10``: it is a benchmark, not a test.
"""

import json

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from matching.scale.measure import PhaseMeter
from matching.scale.synthetic import draw_world, world_problem
from matching.solver import component_labels, solve_component


class Command(BaseCommand):
    help = "Draw, score and solve a seeded national world in memory; print times and memory."

    def add_arguments(self, parser):
        parser.add_argument("--attorneys", type=int, required=True)
        parser.add_argument("--cases", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--other-languages",
            choices=["on", "off"],
            default=None,
            help="Count cases' other languages as routes (default: MATCHING_OTHER_LANGUAGES).",
        )

    def handle(self, *args, attorneys, cases, seed, other_languages, **options):
        if attorneys <= 0 or cases <= 0:
            raise CommandError("--attorneys and --cases must be positive.")
        others = settings.MATCHING_OTHER_LANGUAGES
        if other_languages is not None:
            others = other_languages == "on"
        meter = PhaseMeter()
        with meter.phase("draw"):
            world = draw_world(attorneys=attorneys, cases=cases, seed=seed, other_languages=others)
        timings: dict = {}
        with meter.phase("score_build"):
            problem = world_problem(world, timings=timings)
        with meter.phase("solve"):
            solution = solve_component(problem.instance, problem.hubs)
        figures = _figures(problem, solution, meter, timings, seed=seed, others=others)
        for name, value in figures.items():
            self.stdout.write(f"{name:>18}: {value}")
        self.stdout.write(json.dumps(figures))


def _figures(problem, solution, meter: PhaseMeter, timings: dict, *, seed: int, others: bool):
    instance, hubs = problem.instance, problem.hubs
    labels = component_labels(instance, hubs)
    reached = np.unique(labels[np.concatenate([instance.arc_attorney, hubs.arc_attorney])])
    seconds = {"draw": meter.seconds["draw"], **{k: round(v, 3) for k, v in timings.items()}}
    seconds["solve"] = meter.seconds["solve"]
    return {
        "attorneys": instance.n_attorneys,
        "cases": instance.n_cases,
        "seed": seed,
        "other_languages": others,
        "cells": instance.n_cells,
        "arcs": instance.n_arcs,
        "hubs": hubs.n_hubs,
        "hub_arcs": len(hubs.arc_attorney),
        "hub_cell_arcs": len(hubs.cell),
        "components": len(reached),
        "capacity": int(instance.capacity.sum()),
        "assigned": solution.assigned,
        "objective": solution.objective,
        "seconds": seconds,
        "score_build_solve_s": round(timings["score"] + timings["build"] + seconds["solve"], 3),
        "rss_mib": meter.rss_mib,
        "phase_peak_mib": meter.peak_mib,
        "process_peak_mib": meter.process_peak_mib,
    }
