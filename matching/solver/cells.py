"""Cells without exclusions, the shared input of both solvers."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.solver.instance import Instance, IntArray


@dataclass(frozen=True, eq=False, slots=True)
class _Cells:
    """Cells in which every arc allows every case, trimmed to what could ever be used.

    Cell k owns ``case[start[k]:start[k + 1]]`` (instance case positions, best first). Arcs are
    sorted by (cell, attorney) and all have positive capacity.
    """

    start: IntArray
    case: IntArray
    arc_attorney: IntArray
    arc_cell: IntArray
    arc_capacity: IntArray
    affinity: IntArray

    @property
    def n_cells(self) -> int:
        return len(self.start) - 1


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenate ``arange(s, s + n)`` for every (s, n), without a Python loop."""
    lengths = lengths.astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    steps = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    return np.repeat(starts.astype(np.int64), lengths) + steps


def _cells_without_exclusions(instance: Instance) -> _Cells:
    """Give every case with a binding exclusion a cell of its own.

    1. Keep the exclusions that bind: those whose attorney has an arc to the case's cell.
    2. Split those cases out of their cells, in case order (deterministic), one cell each,
       numbered after the original cells.
    3. Copy the original cell's arcs to each split case's cell, minus the excluded attorneys.
    4. Trim (see :func:`_trim`).
    """
    case_cell = instance.case_cell()
    split = _cases_to_split(instance, case_cell)
    kept = np.ones(instance.n_cases, dtype=bool)
    kept[split] = False
    kept_cases = np.flatnonzero(kept)
    sizes = np.concatenate(
        (np.bincount(case_cell[kept_cases], minlength=instance.n_cells), np.ones_like(split))
    )
    attorney, cell, affinity = _arcs_of_split_cases(instance, case_cell, split)
    return _trim(
        instance,
        start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        case=np.concatenate((kept_cases, split)).astype(np.int64),
        arc_attorney=np.concatenate((instance.arc_attorney, attorney)),
        arc_cell=np.concatenate((instance.arc_cell, instance.n_cells + cell)),
        affinity=np.concatenate((instance.affinity, affinity)),
    )


def _cases_to_split(instance: Instance, case_cell: IntArray) -> IntArray:
    """Cases with a binding exclusion, in case order."""
    arc_keys = instance.arc_attorney * instance.n_cells + instance.arc_cell  # sorted (canonical)
    keys = instance.excluded_attorney * instance.n_cells + case_cell[instance.excluded_case]
    return np.unique(instance.excluded_case[_isin_sorted(keys, arc_keys)])


def _arcs_of_split_cases(
    instance: Instance, case_cell: IntArray, split: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney, i, affinity) for the arcs into split case i's own cell."""
    by_cell = np.argsort(instance.arc_cell, kind="stable")
    degree = np.bincount(instance.arc_cell, minlength=instance.n_cells)
    first = np.cumsum(degree) - degree
    split_degree = degree[case_cell[split]]
    copied = by_cell[ranges(first[case_cell[split]], split_degree)]
    # Exclusion keys are attorney * n_cases + case, sorted (canonical).
    n_cases = max(instance.n_cases, 1)
    excluded = instance.excluded_attorney * n_cases + instance.excluded_case
    copied_keys = instance.arc_attorney[copied] * n_cases + np.repeat(split, split_degree)
    allowed = ~_isin_sorted(copied_keys, excluded)
    copied = copied[allowed]
    cell = np.repeat(np.arange(len(split), dtype=np.int64), split_degree)[allowed]
    return instance.arc_attorney[copied], cell, instance.affinity[copied]


def _isin_sorted(values: IntArray, sorted_keys: IntArray) -> NDArray[np.bool_]:
    """``np.isin`` for keys that are already sorted: one binary search per value."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _trim(
    instance: Instance,
    *,
    start: IntArray,
    case: IntArray,
    arc_attorney: IntArray,
    arc_cell: IntArray,
    affinity: IntArray,
) -> _Cells:
    """Drop what no solution can use, which shrinks the flow graph a lot on a real backlog.

    1. An arc's capacity is min(attorney capacity, cell size); drop arcs of capacity 0.
    2. A cell can pass at most the sum of its arcs' capacities; an optimal (or greedy)
       solution then uses the best cases only, so keep that many, best first.
    3. Sort arcs by (cell, attorney), the order the flow decomposition pairs them up in.
    """
    n_cells = len(start) - 1
    sizes = np.diff(start)
    capacity = np.minimum(instance.capacity[arc_attorney], sizes[arc_cell])
    keep = capacity > 0
    arc_attorney, arc_cell = arc_attorney[keep], arc_cell[keep]
    affinity, capacity = affinity[keep], capacity[keep]

    usable = np.minimum(sizes, np.bincount(arc_cell, weights=capacity, minlength=n_cells))
    usable = usable.astype(np.int64)
    kept_case = case[ranges(start[:-1], usable)]

    order = np.lexsort((arc_attorney, arc_cell))
    return _Cells(
        start=np.concatenate(([0], np.cumsum(usable))).astype(np.int64),
        case=kept_case,
        arc_attorney=arc_attorney[order],
        arc_cell=arc_cell[order],
        arc_capacity=capacity[order],
        affinity=affinity[order],
    )
