"""The exact solve with the cases sharded over Celery workers, against one process:
`manage.py bench_split_solve --attorneys N --cases M --shards 2 --queue scale-bench`.

Start one worker per shard first, shard s on queue ``<queue>-s`` and each pinned to a core
(``taskset -c 0 celery -A config worker -Q scale-bench-0 --concurrency 1``, ``taskset -c 1 ...
-Q scale-bench-1``). The workers draw the seeded world and
keep their region's cases (matching/scale/shards.py; the draw stands in for a regional load and
is not timed); then, timed: (1) each worker summarises its cases, (2) this process, the
coordinator, solves the flow over the summaries (matching/scale/sharded.py), (3) each worker
turns its fills into pairs. Then this process solves the whole world alone with the run's
``solve_component`` and compares: objective (the gap must be 0), pairs checked feasible, times
and memory. Last, the inexact regional split (matching/scale/regional.py): each worker solves
its region's attorneys against its region's cases, this process repairs with what is left, and
the gap to the exact optimum is printed. docs/scaling.md has the figures; the last line is JSON.
"""

import json
from collections import Counter
from time import perf_counter

from celery import group
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from matching.scale.measure import PhaseMeter
from matching.scale.regional import repair
from matching.scale.sharded import coordinate, fills_to_json, summary_from_json
from matching.scale.synthetic import draw_world, world_problem
from matching.solver import Assignment, Solution, solve_component
from matching.tasks.bench import (
    region_solve_task,
    shard_assign_task,
    shard_prepare_task,
    shard_summary_task,
)


class Command(BaseCommand):
    help = "Solve a seeded world with its cases sharded over Celery workers, and alone."

    def add_arguments(self, parser):
        parser.add_argument("--attorneys", type=int, required=True)
        parser.add_argument("--cases", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--shards", type=int, default=2)
        parser.add_argument("--queue", default="scale-bench")
        parser.add_argument("--timeout", type=int, default=3600, help="Seconds per round.")
        parser.add_argument("--other-languages", choices=["on", "off"], default=None)

    def handle(self, *args, **options):
        others = options["other_languages"]
        others = settings.MATCHING_OTHER_LANGUAGES if others is None else others == "on"
        specs = [
            {"attorneys": options["attorneys"], "cases": options["cases"],
             "seed": options["seed"], "other_languages": others, "shards": options["shards"],
             "shard": shard}
            for shard in range(options["shards"])
        ]  # fmt: skip
        self.queue, self.timeout = options["queue"], options["timeout"]
        meter = PhaseMeter()
        prepared = self._round(shard_prepare_task, [(s,) for s in specs])
        figures = {"shard_cases": [p["cases"] for p in prepared]}
        figures["worker_draw_s"] = [round(p["seconds"], 3) for p in prepared]
        world = draw_world(attorneys=options["attorneys"], cases=0, seed=options["seed"])
        with meter.phase("split"):
            split = self._split(specs, world, figures)
        del world
        with meter.phase("draw"):
            world = draw_world(
                attorneys=options["attorneys"], cases=options["cases"], seed=options["seed"],
                other_languages=others,
            )  # fmt: skip
        with meter.phase("single"):
            problem = world_problem(world)
            exact = solve_component(problem.instance, problem.hubs)
        figures |= self._compare(split, exact, problem, meter)
        figures |= self._regional(specs, world, exact)
        for name, value in figures.items():
            self.stdout.write(f"{name:>22}: {value}")
        self.stdout.write(json.dumps(figures))

    def _round(self, task, arguments: list[tuple]) -> list[dict]:
        # Shard s goes to queue "<queue>-s", where one worker keeps that shard between rounds.
        job = group(
            task.s(*a).set(queue=f"{self.queue}-{a[0]['shard']}") for a in arguments
        ).apply_async()
        try:
            return job.get(timeout=self.timeout, interval=0.05)
        except Exception as error:
            raise CommandError(f"{task.name}: {type(error).__name__}: {error}") from error

    def _split(self, specs: list[dict], world, figures: dict) -> dict:
        started = perf_counter()
        summaries = self._round(shard_summary_task, [(s,) for s in specs])
        figures["round1_s"] = round(perf_counter() - started, 3)
        figures["worker_summary_s"] = [round(s["seconds"], 3) for s in summaries]
        started = perf_counter()
        plan = coordinate(
            world.attorneys,
            world.courts,
            [summary_from_json(s["summary"], world.courts) for s in summaries],
        )
        figures["coordinate_s"] = round(perf_counter() - started, 3)
        figures |= {"cells": plan.cells, "units": plan.units, "arcs": plan.arcs,
                    "hub_arcs": plan.hub_arcs}  # fmt: skip
        started = perf_counter()
        fills = [(s, fills_to_json(f)) for s, f in zip(specs, plan.fills, strict=True)]
        assigned = self._round(shard_assign_task, fills)
        figures["round2_s"] = round(perf_counter() - started, 3)
        figures["worker_assign_s"] = [round(a["seconds"], 3) for a in assigned]
        pairs = [tuple(p) for a in assigned for p in a["pairs"]]
        return {"plan": plan, "pairs": pairs}

    def _regional(self, specs: list[dict], world, exact) -> dict:
        """The inexact split (regional.py): regions on the workers, the repair here."""
        started = perf_counter()
        parts = self._round(region_solve_task, [(s,) for s in specs])
        round_s = perf_counter() - started
        regions = [
            Solution(
                objective=sum(score for _, _, score in p["assignments"]),
                assignments=tuple(Assignment(*a) for a in p["assignments"]),
            )
            for p in parts
        ]
        started = perf_counter()
        repaired = repair(world, regions)
        objective = sum(r.objective for r in regions) + repaired.objective
        return {
            "regional_objective": objective,
            "regional_gap": exact.objective - objective,
            "regional_gap_percent": round(100 * (exact.objective - objective) / exact.objective, 3),
            "regional_round_s": round(round_s, 3),
            "worker_region_s": [round(p["seconds"], 3) for p in parts],
            "worker_region_rss_before_mib": [p["rss_mib"] for p in parts],
            "worker_region_peak_mib": [p["peak_mib"] for p in parts],
            "repair_s": round(perf_counter() - started, 3),
            "repair_assigned": repaired.assigned,
        }

    def _compare(self, split: dict, exact, problem, meter: PhaseMeter) -> dict:
        pairs = split["pairs"]
        objective = sum(score for _, _, score in pairs)
        capacity = dict(zip(problem.instance.attorney_ids.tolist(),
                            problem.instance.capacity.tolist(), strict=True))  # fmt: skip
        used = Counter(attorney for attorney, _, _ in pairs)
        feasible = len({case for _, case, _ in pairs}) == len(pairs) and all(
            n <= capacity[a] for a, n in used.items()
        )
        split_s = meter.seconds["split"]
        return {
            "split_objective": objective,
            "exact_objective": exact.objective,
            "gap": exact.objective - objective,
            "split_assigned": len(pairs),
            "exact_assigned": exact.assigned,
            "split_feasible": feasible,
            "split_s": split_s,
            "single_s": meter.seconds["single"],
            "coordinator_peak_mib": meter.peak_mib["split"],
            "single_peak_mib": meter.peak_mib["single"],
        }
