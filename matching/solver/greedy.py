"""The greedy baseline: best pair first, to report the optimum against."""

import heapq
from collections.abc import Callable

import numpy as np

from matching.solver.cells import _cells_without_exclusions
from matching.solver.instance import Instance
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
    order = np.lexsort((cells.arc_attorney, -cells.affinity, cells.arc_cell))
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
        taken_case = case[next_case[cell]]
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
