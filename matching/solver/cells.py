"""Cells without exclusions, the shared input of the exact flow and the greedy baseline."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.solver.arrays import isin_sorted, ranges, stable_order
from matching.solver.hubs import Hubs
from matching.solver.instance import Instance, IntArray


@dataclass(frozen=True, eq=False, slots=True)
class _Cells:
    """Cells in which every arc allows every case, trimmed to what could ever be used.

    Cell k owns ``case[start[k]:start[k + 1]]`` (instance case positions, best first). Direct
    arcs (``arc_*``) are sorted by (cell, attorney), or left in the instance's (attorney, cell)
    order, split cells' arcs last, when built with ``by_cell=False``; hub arcs (``hub_*``:
    attorney -> hub) by (hub, attorney); reach arcs (``reach_*``: hub -> cell) by (hub, cell).
    Every arc has a positive capacity. Without hubs the last two groups are empty.
    """

    start: IntArray
    case: IntArray
    arc_attorney: IntArray
    arc_cell: IntArray
    arc_capacity: NDArray[np.signedinteger]  # narrow (see _arc_capacity)
    affinity: IntArray
    hub_attorney: IntArray
    hub: IntArray
    hub_capacity: IntArray
    hub_affinity: IntArray
    reach_hub: IntArray
    reach_cell: IntArray
    reach_capacity: IntArray
    n_hubs: int
    reach: IntArray

    @property
    def n_cells(self) -> int:
        return len(self.start) - 1


@dataclass(frozen=True, eq=False, slots=True)
class _Arcs:
    attorney: IntArray
    cell: IntArray
    affinity: IntArray


def _cells_without_exclusions(
    instance: Instance, hubs: Hubs | None = None, *, by_cell: bool = True
) -> _Cells:
    """Give every case with a binding exclusion a cell of its own.

    1. Keep the exclusions that bind: those whose attorney reaches the case's cell, by an arc
       or through a hub.
    2. Split those cases out of their cells, in case order (deterministic), one cell each,
       numbered after the original cells.
    3. Give each split case's cell the arcs that reached its original cell (hub paths become
       direct arcs), minus the excluded attorneys.
    4. Trim (see :func:`_trim`); ``by_cell=False`` skips sorting direct arcs by cell, which the
       flow does not need (0.5 s of gathers at 6M arcs).
    """
    hubs = Hubs.none() if hubs is None else hubs
    case_cell = instance.case_cell()
    split = _cases_to_split(instance, hubs, case_cell)
    direct = _Arcs(instance.arc_attorney, instance.arc_cell, instance.affinity)
    if not len(split):  # the run pipeline's case: its exclusions already sit in cells of their own
        return _trim(instance, hubs, start=instance.cell_start, case=np.arange(instance.n_cases),
                     arcs=direct, by_cell=by_cell)  # fmt: skip
    kept = np.ones(instance.n_cases, dtype=bool)
    kept[split] = False
    kept_cases = np.flatnonzero(kept)
    sizes = np.concatenate(
        (np.bincount(case_cell[kept_cases], minlength=instance.n_cells), np.ones_like(split))
    )
    copied = _arcs_of_split_cases(instance, hubs, case_cell, split)
    arcs = _Arcs(
        np.concatenate((direct.attorney, copied.attorney)),
        np.concatenate((direct.cell, instance.n_cells + copied.cell)),
        np.concatenate((direct.affinity, copied.affinity)),
    )
    return _trim(
        instance,
        hubs,
        start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        case=np.concatenate((kept_cases, split)).astype(np.int64),
        arcs=arcs,
        by_cell=by_cell,
    )


def _cases_to_split(instance: Instance, hubs: Hubs, case_cell: IntArray) -> IntArray:
    """Cases with a binding exclusion, in case order."""
    binds = _has_arc(instance, instance.excluded_attorney, case_cell[instance.excluded_case])
    if len(hubs.arc_attorney) and len(binds):
        exclusion, hub = _hubs_reaching(hubs, case_cell[instance.excluded_case])
        n_hubs = max(hubs.n_hubs, 1)
        entry_keys = np.sort(hubs.arc_attorney * n_hubs + hubs.arc_hub)
        through = isin_sorted(instance.excluded_attorney[exclusion] * n_hubs + hub, entry_keys)
        binds[exclusion[through]] = True
    return np.unique(instance.excluded_case[binds])


def _has_arc(instance: Instance, attorney: IntArray, cell: IntArray) -> NDArray[np.bool_]:
    """Whether the instance has an arc from ``attorney[i]`` to ``cell[i]``, for each i: a
    binary search in each attorney's arcs (canonical order: by attorney, then cell), all i at
    once. No key per arc: the run's millions of arcs are not copied for its few exclusions."""
    n = instance.n_arcs
    if not n or not len(attorney):
        return np.zeros(len(attorney), dtype=bool)
    low = np.searchsorted(instance.arc_attorney, attorney)
    end = np.searchsorted(instance.arc_attorney, attorney, side="right")
    high = end.copy()
    while (open_ := low < high).any():
        middle = (low + high) // 2
        right = open_ & (instance.arc_cell[np.minimum(middle, n - 1)] < cell)
        low = np.where(right, middle + 1, low)
        high = np.where(open_ & ~right, middle, high)
    found: NDArray[np.bool_] = (low < end) & (instance.arc_cell[np.minimum(low, n - 1)] == cell)
    return found


def _hubs_reaching(hubs: Hubs, cells: IntArray) -> tuple[IntArray, IntArray]:
    """(i, hub) for every hub that reaches ``cells[i]``, by i then hub."""
    reach_hub, reach_cell = hubs.cell_arcs()
    by_cell = np.argsort(reach_cell, kind="stable")  # within a cell, hubs ascending
    n = int(max(reach_cell.max(initial=-1), cells.max(initial=-1))) + 1
    degree = np.bincount(reach_cell, minlength=n)
    first = np.cumsum(degree) - degree
    return np.repeat(np.arange(len(cells)), degree[cells]), reach_hub[
        by_cell[ranges(first[cells], degree[cells])]
    ]


def _arcs_of_split_cases(
    instance: Instance, hubs: Hubs, case_cell: IntArray, split: IntArray
) -> _Arcs:
    """(attorney, i, affinity) of the arcs into split case i's own cell, by i then attorney."""
    by_cell = stable_order(instance.arc_cell)
    degree = np.bincount(instance.arc_cell, minlength=instance.n_cells)
    first = np.cumsum(degree) - degree
    split_degree = degree[case_cell[split]]
    copied = by_cell[ranges(first[case_cell[split]], split_degree)]
    arcs = _Arcs(
        instance.arc_attorney[copied],
        np.repeat(np.arange(len(split), dtype=np.int64), split_degree),
        instance.affinity[copied],
    )
    if len(hubs.arc_attorney):
        arcs = _with_hub_paths(arcs, hubs, case_cell[split])
    # Exclusion keys are attorney * n_cases + case, sorted (canonical).
    n_cases = max(instance.n_cases, 1)
    excluded = instance.excluded_attorney * n_cases + instance.excluded_case
    allowed = ~isin_sorted(arcs.attorney * n_cases + split[arcs.cell], excluded)
    return _Arcs(arcs.attorney[allowed], arcs.cell[allowed], arcs.affinity[allowed])


def _with_hub_paths(arcs: _Arcs, hubs: Hubs, cells: IntArray) -> _Arcs:
    """``arcs`` plus, for split case i, an arc for every hub path into its cell ``cells[i]``;
    one arc per (i, attorney), at the best affinity, by i then attorney."""
    i, hub = _hubs_reaching(hubs, cells)
    by_hub = np.argsort(hubs.arc_hub, kind="stable")
    degree = np.bincount(hubs.arc_hub, minlength=hubs.n_hubs)
    first = np.cumsum(degree) - degree
    entry = by_hub[ranges(first[hub], degree[hub])]
    attorney = np.concatenate((arcs.attorney, hubs.arc_attorney[entry]))
    cell = np.concatenate((arcs.cell, np.repeat(i, degree[hub])))
    affinity = np.concatenate((arcs.affinity, hubs.affinity[entry]))
    order = np.lexsort((-affinity, attorney, cell))
    attorney, cell, affinity = attorney[order], cell[order], affinity[order]
    best = np.ones(len(order), dtype=bool)
    best[1:] = (attorney[1:] != attorney[:-1]) | (cell[1:] != cell[:-1])
    return _Arcs(attorney[best], cell[best], affinity[best])


def _trim(
    instance: Instance,
    hubs: Hubs,
    *,
    start: IntArray,
    case: IntArray,
    arcs: _Arcs,
    by_cell: bool = True,
) -> _Cells:
    """Drop what no solution can use, which shrinks the flow graph a lot on a real backlog.

    1. A direct arc's capacity is min(attorney capacity, cell size), a hub arc's the attorney's
       capacity, a hub -> cell arc's min(cell size, what the hub's attorneys can carry); drop
       arcs of capacity 0.
    2. A cell can pass at most the sum of its incoming capacities; an optimal (or greedy)
       solution then uses the best cases only, so keep that many, best first.
    3. Sort direct arcs by (cell, attorney) (unless ``by_cell`` is false) and hub arcs by
       (hub, attorney), the orders the greedy and the flow decomposition pair them up in.
    """
    n_cells = len(start) - 1
    sizes = np.diff(start)
    capacity = _arc_capacity(instance.capacity, sizes, arcs)
    arc_attorney, arc_cell, affinity = arcs.attorney, arcs.cell, arcs.affinity
    keep = capacity > 0
    if not keep.all():  # arcs into empty cells; none in the run pipeline's problem
        arc_attorney, arc_cell = arc_attorney[keep], arc_cell[keep]
        affinity, capacity = affinity[keep], capacity[keep]
    hub_capacity = instance.capacity[hubs.arc_attorney]
    hub_total = np.bincount(hubs.arc_hub, weights=hub_capacity, minlength=hubs.n_hubs)
    reach_hub, reach_cell = hubs.cell_arcs()
    reach_capacity = np.minimum(sizes[reach_cell], hub_total[reach_hub].astype(np.int64))
    reach = np.bincount(arc_cell, weights=capacity, minlength=n_cells).astype(np.int64)
    reach += np.bincount(reach_cell, weights=reach_capacity, minlength=n_cells).astype(np.int64)
    usable = np.minimum(sizes, reach)
    kept_case = case[ranges(start[:-1], usable)]

    # Arcs come in (attorney, cell) order within each cell (canonical order; split cells list
    # theirs by attorney), so a stable sort by cell gives (cell, attorney).
    if by_cell:
        order = stable_order(arc_cell)
        arc_attorney, arc_cell = arc_attorney[order], arc_cell[order]
        capacity, affinity = capacity[order], affinity[order]
    hub_keep = hub_capacity > 0
    hub_order = np.flatnonzero(hub_keep)[
        np.lexsort((hubs.arc_attorney[hub_keep], hubs.arc_hub[hub_keep]))
    ]
    reach_keep = reach_capacity > 0
    return _Cells(
        start=np.concatenate(([0], np.cumsum(usable))).astype(np.int64),
        case=kept_case,
        arc_attorney=arc_attorney,
        arc_cell=arc_cell,
        arc_capacity=capacity,
        affinity=affinity,
        hub_attorney=hubs.arc_attorney[hub_order],
        hub=hubs.arc_hub[hub_order],
        hub_capacity=hub_capacity[hub_order],
        hub_affinity=hubs.affinity[hub_order],
        reach_hub=reach_hub[reach_keep],
        reach_cell=reach_cell[reach_keep],
        reach_capacity=reach_capacity[reach_keep],
        n_hubs=hubs.n_hubs,
        reach=reach,
    )


def _arc_capacity(capacity: IntArray, sizes: IntArray, arcs: _Arcs) -> NDArray[np.signedinteger]:
    """min(attorney capacity, cell size) of every arc, in the narrowest integer type that holds
    the largest capacity (int8 for any real one): the two gathers over every arc then write a
    byte an arc instead of eight: at 1M cases (6M arcs) 2 arrays of 6 MB where there were 3
    of 48 MB. Same values; every reader either widens them (the network's int64) or compares
    them."""
    high = int(capacity.max(initial=0))
    types: tuple[type[np.signedinteger], ...] = (np.int8, np.int16, np.int32, np.int64)
    narrow = next(t for t in types if high <= np.iinfo(t).max)
    per_arc: NDArray[np.signedinteger] = capacity.astype(narrow).take(arcs.attorney)
    np.minimum(per_arc, np.minimum(sizes, high).astype(narrow).take(arcs.cell), out=per_arc)
    return per_arc
