"""The greedy baseline: best pair first, to report the optimum against."""

import heapq
from array import array
from collections.abc import Callable

import numpy as np

from matching.solver.arrays import lexsort_ints
from matching.solver.cells import _cells_without_exclusions
from matching.solver.hubs import Hubs
from matching.solver.instance import Instance, IntArray
from matching.solver.solution import Solution, solution_of


def solve_greedy(instance: Instance) -> Solution:
    """Take allowed pairs best score first (ties by attorney id, then case id) while the case is
    free and the attorney has capacity. A baseline to report the optimum against.

    Without materialising attorney x case pairs:

    1. Split exclusions out (:func:`_cells_without_exclusions`), so an arc allows every case of
       its cell. All arcs of a cell then take its cases in the same order, so the taken cases
       form a prefix: the cell's best pair is (its best attorney with capacity left, its next
       free case). Attorneys only lose capacity, so both are pointers that only move forward.
    2. Heap the cells keyed by (-score, attorney, case id) of their best pair; popping merges
       the cells' pair sequences in global sorted order.
    3. A popped key may be stale (its attorney filled up in another cell); re-push the current
       key, which is never better. Otherwise take the pair and re-push the cell.
    """
    cells = _cells_without_exclusions(instance)
    order = lexsort_ints((cells.arc_attorney, -cells.affinity, cells.arc_cell))
    arc_attorney = cells.arc_attorney[order].tolist()
    affinity = cells.affinity[order].tolist()
    arc_start = np.searchsorted(cells.arc_cell[order], np.arange(cells.n_cells + 1)).tolist()
    case_start, case = cells.start.tolist(), cells.case.tolist()
    priority, case_ids = instance.priority.tolist(), instance.case_ids.tolist()
    remaining = instance.capacity.tolist()
    next_arc, next_case = arc_start[:-1], case_start[:-1]

    def best(cell: int) -> GreedyKey | None:
        while next_arc[cell] < arc_start[cell + 1] and not remaining[arc_attorney[next_arc[cell]]]:
            next_arc[cell] += 1
        if next_arc[cell] == arc_start[cell + 1] or next_case[cell] == case_start[cell + 1]:
            return None  # the cell is done: neither pointer ever moves back
        arc, c = next_arc[cell], case[next_case[cell]]
        return (-(affinity[arc] + priority[c]), arc_attorney[arc], case_ids[c], cell)

    def take(cell: int, attorney: int) -> int:
        taken_case: int = case[next_case[cell]]
        next_case[cell] += 1
        remaining[attorney] -= 1
        return taken_case

    taken = greedy_merge(cells.n_cells, best, take)
    attorney, case_taken, score = np.array(taken, dtype=np.int64).reshape(-1, 3).T
    return solution_of(instance, attorney, case_taken, score)


GreedyKey = tuple[int, int, str, int]  # (-score, attorney, case id, cell): heap order


def greedy_merge(
    n_cells: int,
    best: Callable[[int], GreedyKey | None],
    take: Callable[[int, int], int],
) -> list[tuple[int, int, int]]:
    """Merge the cells' best-pair sequences in global score order (steps 2-3 of
    :func:`solve_greedy`); shared with the run pipeline's hub greedy.

    `best(cell)` gives the key of the cell's current best pair or None when it is done;
    `take(cell, attorney)` records the pair, advances the cell and returns the case position.
    Returns (attorney, case position, score) triples in the order taken.
    """
    heap = [key for cell in range(n_cells) if (key := best(cell)) is not None]
    heapq.heapify(heap)
    taken: list[tuple[int, int, int]] = []
    while heap:
        popped = heapq.heappop(heap)
        cell = popped[3]
        current = best(cell)
        if current != popped:  # stale: the attorney filled up elsewhere; the new key is no better
            if current is not None:
                heapq.heappush(heap, current)
            continue
        taken.append((popped[1], take(cell, popped[1]), -popped[0]))
        if (key := best(cell)) is not None:
            heapq.heappush(heap, key)
    return taken


def greedy_with_hubs(instance: Instance, hubs: Hubs) -> Solution:
    """solver.solve_greedy's rule (best pair first; ties by attorney, then case id) over direct
    arcs and hubs, without materialising remote-only pairs.

    Each cell merges its sorted direct arcs with the sorted attorney lists of its hubs (shared,
    pointer included); a heap of cells yields pairs in global order, re-pushing
    stale keys as solve_greedy does. An attorney met twice in one cell (directly and through a
    hub) comes first at its higher, true affinity.
    """
    # One list of (attorney, affinity) runs, best first: each cell's direct arcs, then each
    # hub's attorneys. A run is (start, end) in it; pointers move from start towards end.
    d_order = lexsort_ints((instance.arc_attorney, -instance.affinity, instance.arc_cell))
    h_order = lexsort_ints((hubs.arc_attorney, -hubs.affinity, hubs.arc_hub))
    d_start = np.searchsorted(instance.arc_cell[d_order], np.arange(instance.n_cells + 1))
    h_start = instance.n_arcs + np.searchsorted(hubs.arc_hub[h_order], np.arange(hubs.n_hubs + 1))
    # Compact int32 arrays, not lists: tens of millions of arcs at backlog scale would be a
    # gigabyte of Python ints, and the greedy runs in a forked child beside the solve, where
    # every byte adds to the run's memory.
    attorneys = _gathered((instance.arc_attorney, d_order), (hubs.arc_attorney, h_order))
    affinities = _gathered((instance.affinity, d_order), (hubs.affinity, h_order))
    del d_order, h_order
    run_end = d_start[1:].tolist() + h_start[1:].tolist()
    pointer = d_start[:-1].tolist() + h_start[:-1].tolist()
    has_direct = (d_start[1:] > d_start[:-1]).tolist()
    cell_runs: list[list[int]] = [[k] if has_direct[k] else [] for k in range(instance.n_cells)]
    # Pointers only ever skip attorneys who are full, for good: so every cell of a hub can
    # share the hub's one pointer.
    for h, k in zip(*(a.tolist() for a in hubs.cell_arcs()), strict=True):
        if h_start[h + 1] > h_start[h]:
            cell_runs[k].append(instance.n_cells + h)
    remaining = instance.capacity.tolist()
    case_ids, priority = instance.case_ids, instance.priority
    next_case: list[int] = instance.cell_start[:-1].tolist()
    case_end = instance.cell_start[1:].tolist()

    def best(cell: int) -> GreedyKey | None:
        if next_case[cell] == case_end[cell]:
            return None
        top = None
        for i in cell_runs[cell]:
            end = run_end[i]
            while pointer[i] < end and not remaining[attorneys[pointer[i]]]:
                pointer[i] += 1
            if pointer[i] < end:
                a, w = attorneys[pointer[i]], affinities[pointer[i]]
                if top is None or (-w, a) < top:
                    top = (-w, a)
        if top is None:
            return None
        c = next_case[cell]
        return (top[0] - int(priority[c]), top[1], case_ids[c], cell)

    def take(cell: int, attorney: int) -> int:
        next_case[cell] += 1
        remaining[attorney] -= 1
        return next_case[cell] - 1

    taken = greedy_merge(instance.n_cells, best, take)
    attorney, case, score = np.array(taken, dtype=np.int64).reshape(-1, 3).T
    return solution_of(instance, attorney, case, score)


def _gathered(*parts: tuple[IntArray, IntArray], chunk: int = 1 << 20) -> array[int]:
    """``concatenate([values[order] for values, order in parts])`` as an int32 ``array``, a
    chunk at a time (no full-size int64 temporaries)."""
    out = array("i", bytes(4 * sum(len(order) for _, order in parts)))
    view, at = np.frombuffer(out, dtype=np.int32), 0
    for values, order in parts:
        for start in range(0, len(order), chunk):
            piece = order[start : start + chunk]
            view[at : at + len(piece)] = values[piece]
            at += len(piece)
    return out
