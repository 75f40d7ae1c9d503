"""The worker side of ``bench_split_solve``: a shard of a seeded world, cut by court region.

A worker stands in for one regional slice of the cases table: it draws the seeded world
(synthetic.py; the draw replaces reading its region from PostgreSQL and is timed apart), keeps
the cases of its courts, and keeps them between the messages of one experiment (a worker
process runs one task at a time, so a one-entry cache is enough). ``region`` is the worker's
part of the inexact regional split (regional.py).
"""

from functools import lru_cache
from time import perf_counter

from matching.scale.measure import PhaseMeter
from matching.scale.regional import court_regions, shard_of, solve_region
from matching.scale.sharded import (
    fills_from_json,
    shard_assign,
    shard_summary,
    summary_to_json,
)
from matching.scale.synthetic import World, draw_world


@lru_cache(maxsize=1)
def _world(attorneys: int, cases: int, seed: int, others: bool) -> World:
    return draw_world(attorneys=attorneys, cases=cases, seed=seed, other_languages=others)


@lru_cache(maxsize=1)
def _shard(attorneys: int, cases: int, seed: int, others: bool, shards: int, shard: int):
    world = _world(attorneys, cases, seed, others)
    mine = world.cases.subset(shard_of(world.cases, court_regions(world.courts, shards)) == shard)
    return mine, shard_summary(mine)


def _key(spec: dict) -> tuple:
    return (spec["attorneys"], spec["cases"], spec["seed"], spec["other_languages"],
            spec["shards"], spec["shard"])  # fmt: skip


def prepare(spec: dict) -> dict:
    """Draw the world and keep this worker's shard (the stand-in for its regional load)."""
    started = perf_counter()
    cases, _ = _shard(*_key(spec))
    return {"shard": spec["shard"], "cases": len(cases), "seconds": perf_counter() - started}


def summarise(spec: dict) -> dict:
    """Step 1 on the worker: its shard's summary (computed again here, so it is timed)."""
    started = perf_counter()
    cases, _ = _shard(*_key(spec))
    summary = summary_to_json(shard_summary(cases))
    return {"summary": summary, "seconds": perf_counter() - started}


def assign(spec: dict, fills: dict) -> dict:
    """Step 3 on the worker: (attorney, case pk, score) for its fills."""
    started = perf_counter()
    cases, summary = _shard(*_key(spec))
    pairs = shard_assign(cases, summary, fills_from_json(fills))
    return {"pairs": pairs, "seconds": perf_counter() - started}


def region(spec: dict) -> dict:
    """The inexact split's part (regional.py): this region's attorneys against its cases.
    ``rss_mib`` is the worker's memory before (the drawn world) and ``peak_mib`` its peak
    during the region's score, build and solve."""
    world = _world(*_key(spec)[:4])
    meter = PhaseMeter()
    with meter.phase("region"):
        solution = solve_region(world, spec["shards"], spec["shard"])
    return {
        "assignments": [[a.attorney, a.case, a.score] for a in solution.assignments],
        "seconds": meter.seconds["region"],
        "rss_mib": meter.baseline_mib,
        "peak_mib": meter.peak_mib["region"],
    }
