"""The worker side of ``bench_split_solve``: a shard of a seeded world, cut by court region.

A worker stands in for one regional slice of the cases table: it draws the seeded world
(synthetic.py; the draw replaces reading its region from PostgreSQL and is timed apart), keeps
the cases of its courts, and keeps them between the messages of one experiment (a worker
process runs one task at a time, so a one-entry cache is enough).
"""

from functools import lru_cache
from time import perf_counter

import numpy as np

from core.demo import COURT_WEIGHTS
from matching.scale.sharded import (
    fills_from_json,
    shard_assign,
    shard_summary,
    summary_to_json,
)
from matching.scale.synthetic import Cases, draw_world


def court_regions(courts: list[tuple], n: int) -> dict[int, int]:
    """Region (0..n-1) of every court pk: courts west to east, cut into n runs of about equal
    docket weight (COURT_WEIGHTS), so each region holds about as many cases."""
    by_longitude = sorted(courts, key=lambda c: float(c[4]))
    weight = np.array([COURT_WEIGHTS.get(c[1], 10) for c in by_longitude], dtype=float)
    middle = np.cumsum(weight) - weight / 2
    region = np.minimum((middle / weight.sum() * n).astype(int), n - 1)
    return {c[0]: int(r) for c, r in zip(by_longitude, region.tolist(), strict=True)}


def shard_of(cases: Cases, regions: dict[int, int]) -> np.ndarray:
    """The region of every case (through its cell's court)."""
    cell_region = np.array([regions[c.court_id] for c in cases.cells], dtype=np.int64)
    return cell_region[cases.cell]


@lru_cache(maxsize=1)
def _shard(attorneys: int, cases: int, seed: int, others: bool, shards: int, shard: int):
    world = draw_world(attorneys=attorneys, cases=cases, seed=seed, other_languages=others)
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
