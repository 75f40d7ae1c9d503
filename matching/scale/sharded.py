"""An exact solve with the cases sharded over workers: the case side split, the flow on one node.

docs/scaling.md explains the design; ``bench_split_solve`` measures it on Celery workers.

Why it is exact. The run's flow (matching/solver) never looks at a case beyond its cell and its
priority: an attorney's arc enters a cell, and the cell passes units to its cases best first,
any case of a priority run as good as another. So a shard of cases can be summarised as its
cells' priority histograms, (cell, priority, count) rows, and the optimum of the histograms is
the optimum of the cases. A cell can pass at most what the attorneys reaching it can carry, so
only that many of its best cases can ever be used: the coordinator turns each cell's merged
histogram into that many *unit* cases, solves the run's own flow over them, and sends each shard
back, per (cell, priority), the attorneys whose units landed there. The shard pairs those with
its own cases of that cell and priority, lowest primary key first. The objective is the single
solve's; the pairs are too unless the optimum has ties (which then may be broken differently).

What it needs: no case is in two shards, and every shard describes its cells with the same
CellFacts (the cell key). Exclusions (cases in cells of their own) are out of scope here: a
shard would send such a case as a one-case cell with its excluded attorneys.

1. ``shard_summary`` (worker): a shard's cases as priority histograms.
2. ``coordinate`` (coordinator): merge, score attorneys x cells, bound each cell, build units,
   solve, and split the result into ``fills`` per shard.
3. ``shard_assign`` (worker): turn its fills into (attorney, case) pairs.
"""

from dataclasses import dataclass

import numpy as np

from matching.pipeline.load.instance import build_instance, hubs_by_instance_position
from matching.pipeline.load.instance import split_excluded as cells_for_instance
from matching.pipeline.load.problem import pk_of
from matching.pipeline.score import Attorneys, Scoring
from matching.scale.synthetic import Cases, IntArray, court_miles
from matching.scoring import CellFacts
from matching.solver import Hubs, Solution, solve_component
from matching.solver.arrays import lexsort_ints


@dataclass(frozen=True, eq=False, slots=True)
class ShardSummary:
    """A shard's cases as rows (cell, priority, count), sorted by cell then priority, highest
    first; ``cell`` indexes ``cells``, the shard's own cell list."""

    cells: list[CellFacts]
    cell: IntArray
    priority: IntArray
    count: IntArray


def shard_summary(cases: Cases) -> ShardSummary:
    """Step 1: the shard's cells that hold cases, and their priority histograms."""
    used, local = np.unique(cases.cell, return_inverse=True)
    order = lexsort_ints((-cases.priority, local))
    cell, priority = local[order], cases.priority[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (cell[1:] != cell[:-1]) | (priority[1:] != priority[:-1])
    starts = np.flatnonzero(first)
    return ShardSummary(
        cells=[cases.cells[k] for k in used.tolist()],
        cell=cell[starts],
        priority=priority[starts],
        count=np.diff(np.append(starts, len(order))),
    )


@dataclass(frozen=True, eq=False, slots=True)
class Fills:
    """What one shard must take: per unit, its (shard) cell, priority, attorney id and score,
    sorted by cell then priority (highest first)."""

    cell: IntArray
    priority: IntArray
    attorney: list[str]
    score: IntArray


@dataclass(frozen=True, eq=False, slots=True)
class Plan:
    """The coordinator's result: the optimum, each shard's fills, and the size of its flow."""

    solution: Solution
    fills: list[Fills]
    cells: int
    units: int
    arcs: int
    hub_arcs: int


@dataclass(frozen=True, eq=False, slots=True)
class _Merged:
    """Every shard's rows on one global cell list; ``shard`` says whose row it is."""

    cells: list[CellFacts]
    cell: IntArray
    priority: IntArray
    count: IntArray
    shard: IntArray
    local_cell: IntArray  # the row's cell in its shard's own list


def coordinate(attorneys: Attorneys, courts: list[tuple], summaries: list[ShardSummary]) -> Plan:
    """Step 2: the exact optimum over every shard's cases, from their summaries only.

    1. Merge the shards' cells into one list (equal CellFacts are one cell).
    2. Score attorneys x cells into arcs and hubs, as a run does (pipeline/score.py).
    3. Bound each cell by what can reach it: the capacity of its direct arcs' attorneys, each
       capped by the cell's size, plus what its hubs' attorneys can carry. Keep that many of
       its best units (no optimum uses more).
    4. Build the run's instance over the units (pk = unit number), solve it with the run's
       ``solve_component``, and hand each unit back to the shard whose row it came from.
    """
    merged = _merge(summaries)
    court_position = {c[0]: i for i, c in enumerate(courts)}
    miles = court_miles(attorneys, courts)
    member = np.ones(len(merged.cells), dtype=bool)
    arcs, hubs = Scoring(attorneys, merged.cells, miles, court_position, member).arcs_and_hubs()
    row_units = _kept_units(merged, attorneys.free, arcs.attorney, arcs.cell, hubs)
    unit_row = np.repeat(np.arange(len(row_units)), row_units)
    unit_pk = np.arange(1, len(unit_row) + 1, dtype=np.int64)
    split = cells_for_instance(merged.cells, attorneys.pk, unit_pk, merged.cell[unit_row], [])
    instance = build_instance(attorneys, split, unit_pk, merged.priority[unit_row], arcs)
    hubs = hubs_by_instance_position(hubs, instance, split.cell_ids)
    solution = solve_component(instance, hubs)
    return Plan(
        solution=solution,
        fills=_fills(merged, unit_row, solution, len(summaries)),
        cells=len(merged.cells),
        units=len(unit_row),
        arcs=instance.n_arcs,
        hub_arcs=len(hubs.arc_attorney),
    )


def _merge(summaries: list[ShardSummary]) -> _Merged:
    index: dict[CellFacts, int] = {}
    parts = []
    for number, summary in enumerate(summaries):
        to_global = np.array(
            [index.setdefault(cell, len(index)) for cell in summary.cells], dtype=np.int64
        )
        parts.append((to_global[summary.cell], summary.priority, summary.count,
                      np.full(len(summary.cell), number), summary.cell))  # fmt: skip
    cell, priority, count, shard, local = (
        np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True)
    )
    # By cell, best priority first; equal (cell, priority) rows of several shards in shard order.
    order = lexsort_ints((shard, -priority, cell))
    return _Merged(
        list(index), cell[order], priority[order], count[order], shard[order], local[order]
    )


def _kept_units(
    merged: _Merged, capacity: IntArray, arc_attorney: IntArray, arc_cell: IntArray, hubs: Hubs
) -> IntArray:
    """Units to keep per row: each cell's best rows up to its bound (step 3 of coordinate)."""
    n_cells = len(merged.cells)
    size = np.bincount(merged.cell, weights=merged.count, minlength=n_cells).astype(np.int64)
    direct = np.minimum(capacity[arc_attorney], size[arc_cell])
    bound = np.bincount(arc_cell, weights=direct, minlength=n_cells)
    hub_capacity = capacity[hubs.arc_attorney]
    hub_total = np.bincount(hubs.arc_hub, weights=hub_capacity, minlength=hubs.n_hubs)
    reach_hub, reach_cell = hubs.cell_arcs()
    bound += np.bincount(reach_cell, weights=hub_total[reach_hub], minlength=n_cells)
    bound = np.minimum(size, bound.astype(np.int64))
    # Rows are by cell, best first: keep a row's units while the cell's running total fits.
    before = np.cumsum(merged.count) - merged.count
    cell_start = np.searchsorted(merged.cell, np.arange(n_cells))
    already = before - before[cell_start[merged.cell]]
    return np.clip(bound[merged.cell] - already, 0, merged.count)


def _fills(merged: _Merged, unit_row: IntArray, solution: Solution, n_shards: int) -> list[Fills]:
    taken = np.array([pk_of(a.case) - 1 for a in solution.assignments], dtype=np.int64)
    attorneys = np.empty(len(taken), dtype=object)
    attorneys[:] = [a.attorney for a in solution.assignments]
    scores = np.array([a.score for a in solution.assignments], dtype=np.int64)
    row = unit_row[taken]
    fills = []
    for shard in range(n_shards):
        mine = np.flatnonzero(merged.shard[row] == shard)
        mine = mine[lexsort_ints((-merged.priority[row[mine]], merged.local_cell[row[mine]]))]
        fills.append(
            Fills(
                cell=merged.local_cell[row[mine]],
                priority=merged.priority[row[mine]],
                attorney=attorneys[mine].tolist(),
                score=scores[mine],
            )
        )
    return fills


def shard_assign(cases: Cases, summary: ShardSummary, fills: Fills) -> list[tuple[str, int, int]]:
    """Step 3: (attorney id, case pk, score) for the shard's fills. Within a (cell, priority)
    group the cases go lowest primary key first, in the fills' order."""
    used, local = np.unique(cases.cell, return_inverse=True)
    if len(used) != len(summary.cells):
        raise ValueError("the summary was not made from these cases")
    order = lexsort_ints((cases.pk, -cases.priority, local))
    key_cases = _group_key(local[order], cases.priority[order])
    key_fills = _group_key(fills.cell, fills.priority)
    group_first = np.searchsorted(key_cases, key_fills, side="left")
    # A fill's rank among the fills of its group (fills come sorted by group).
    fill_first = np.searchsorted(key_fills, key_fills, side="left")
    at = group_first + np.arange(len(key_fills)) - fill_first
    if len(at) and (at.max() >= len(order) or np.any(key_cases[at] != key_fills)):
        raise ValueError("a fill asks for more cases than its cell and priority hold")
    case_pk = cases.pk[order[at]]
    return list(zip(fills.attorney, case_pk.tolist(), fills.score.tolist(), strict=True))


def _group_key(cell: IntArray, priority: IntArray) -> IntArray:
    """An int64 key sorted like (cell, priority descending)."""
    return cell.astype(np.int64) * (1 << 32) + ((1 << 31) - 1 - priority.astype(np.int64))


# The JSON form of summaries and fills, for Celery messages (the default serializer is JSON).


def summary_to_json(summary: ShardSummary) -> dict:
    cells = [
        [c.language, list(c.other_languages), c.relay_language, c.court_id, c.case_type,
         c.detained, c.remote_ok]
        for c in summary.cells
    ]  # fmt: skip
    return {
        "cells": cells,
        "cell": summary.cell.tolist(),
        "priority": summary.priority.tolist(),
        "count": summary.count.tolist(),
    }


def summary_from_json(data: dict, courts: list[tuple]) -> ShardSummary:
    where = {c[0]: (float(c[3]), float(c[4])) for c in courts}
    cells = [
        CellFacts(
            language=language, other_languages=tuple(others), relay_language=relay,
            case_type=case_type, court_id=court, court_latitude=where[court][0],
            court_longitude=where[court][1], detained=detained, remote_ok=remote,
        )
        for language, others, relay, court, case_type, detained, remote in data["cells"]
    ]  # fmt: skip
    return ShardSummary(
        cells=cells,
        **{k: np.array(data[k], dtype=np.int64) for k in ("cell", "priority", "count")},
    )


def fills_to_json(fills: Fills) -> dict:
    return {
        "cell": fills.cell.tolist(),
        "priority": fills.priority.tolist(),
        "attorney": fills.attorney,
        "score": fills.score.tolist(),
    }


def fills_from_json(data: dict) -> Fills:
    return Fills(
        cell=np.array(data["cell"], dtype=np.int64),
        priority=np.array(data["priority"], dtype=np.int64),
        attorney=list(data["attorney"]),
        score=np.array(data["score"], dtype=np.int64),
    )
