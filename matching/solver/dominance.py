"""Arcs no optimal matching uses, dropped before the flow is built: exact, and about half of them.

On a real backlog cases far outnumber what attorneys can take, so an attorney is often certain
of good cases whatever everyone else does, and can never want an arc worth less than those.

**Guaranteed options.** In a cell k (cases best first), other attorneys can take at most
``others = reach(k) - capacity(a, k)`` cases, where ``reach(k)`` is the capacity of every arc
into k (direct, and through hubs). So whatever the others do, attorney a's j-th unit in k finds
a free case at position ``others + j - 1`` or better: a *guaranteed option* worth
``affinity(a, k) + priority[others + j - 1]``. Let ``G(a)`` be the ``capacity(a)``-th best of a's
options over all its direct arcs (none if a has fewer options than capacity).

**The rule.** An arc whose best possible unit is worth less than ``G(a)`` (a direct arc:
``affinity + the cell's best priority``; a hub arc: ``affinity + the best priority of any cell
the hub reaches``) is used by no optimal solution. Proof by exchange: suppose an optimal solution
sends one of a's units along such an arc. Then a spends at most ``capacity(a) - 1`` units in the
cells of its ``capacity(a)`` best options, so some cell k of them holds fewer of a's units (u)
than a has options there (m). At most ``others + u`` cases of k are taken, and an optimal solution
may take each cell's cases best first, so the case at position ``others + u`` is free, with a
priority at least that of position ``others + m - 1``: moving the unit there scores at least
``G(a)``, strictly more than it scored. The solution was not optimal.

So every optimal solution lives in the smaller graph, which has the same optimum. Repeating on
the smaller graph (whose reach is smaller, so more options are guaranteed) drops a few more; the
cells are then trimmed again to what the remaining arcs can carry.
"""

from dataclasses import replace

import numpy as np

from matching.solver.arrays import lexsort_ints, ranges
from matching.solver.cells import _Cells
from matching.solver.instance import Instance, IntArray

# Rounds of the rule; each is ~1 s at 6M arcs and the second drops ~4% more than the first.
ROUNDS = 2


def without_dominated_arcs(instance: Instance, cells: _Cells, rounds: int = ROUNDS) -> _Cells:
    """``cells`` without the arcs of :func:`dominated`, trimmed again (see the module)."""
    for _ in range(rounds):
        keep, keep_hub = _undominated(instance, cells)
        if keep.all() and keep_hub.all():
            break
        cells = _retrimmed(cells, keep, keep_hub)
    return cells


def _undominated(instance: Instance, cells: _Cells) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the direct and hub arcs the rule keeps."""
    size = np.diff(cells.start)
    best = np.zeros(cells.n_cells, dtype=np.int64)
    best[size > 0] = instance.priority[cells.case[cells.start[:-1][size > 0]]]
    threshold = _guaranteed(instance, cells, size)
    value = best.take(cells.arc_cell)  # each direct arc's best unit, summed in place
    value += cells.affinity
    keep = value >= threshold.take(cells.arc_attorney)
    hub_best = np.zeros(cells.n_hubs, dtype=np.int64)
    np.maximum.at(hub_best, cells.reach_hub, best[cells.reach_cell])
    keep_hub = cells.hub_affinity + hub_best[cells.hub] >= threshold[cells.hub_attorney]
    return keep, keep_hub


def _guaranteed(instance: Instance, cells: _Cells, size: IntArray) -> IntArray:
    """G(a) of every attorney, or the smallest int64 where a has fewer options than capacity.

    An arc's options number ``min(capacity, size - others)``, that is
    ``min(capacity, capacity + size - reach)``: one gather of a per-cell slack over all arcs.
    Positions stay below the trimmed size (others + j <= reach(k) when j <= capacity(a, k)), so
    the cell's kept cases are enough.
    """
    reach = cells.reach
    slack = size - reach
    # Few arcs have options (~2% at backlog scale: most cells are contested), so the rest of
    # the work runs on those only. An arc has some when its capacity exceeds reach - size,
    # compared in the capacities' narrow type (cells.py, _arc_capacity): clipped to that type's
    # range, the shortfall gives the same answers, and the gather writes a byte an arc.
    narrow = np.iinfo(cells.arc_capacity.dtype)
    shortfall = np.clip(reach - size, narrow.min, narrow.max).astype(narrow.dtype)
    with_options = np.flatnonzero(cells.arc_capacity > shortfall.take(cells.arc_cell))
    capacity, cell = cells.arc_capacity[with_options], cells.arc_cell[with_options]
    count = np.minimum(capacity, capacity + slack[cell])
    others = reach[cell] - capacity
    arc = np.repeat(with_options, count)
    position = np.repeat(others, count) + ranges(np.zeros_like(count), count)
    cell = cells.arc_cell[arc]
    value = cells.affinity[arc] + instance.priority[cells.case[cells.start[cell] + position]]
    attorney = cells.arc_attorney[arc]
    order = lexsort_ints((-value, attorney))  # by attorney, best option first
    attorney, value = attorney[order], value[order]
    n = instance.n_attorneys
    first = np.searchsorted(attorney, np.arange(n))
    has = np.bincount(attorney, minlength=n) >= instance.capacity
    has &= instance.capacity > 0
    threshold = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    threshold[has] = value[first[has] + instance.capacity[has] - 1]
    return threshold


def _reach(cells: _Cells) -> IntArray:
    """The capacity of every arc into each cell, direct and through hubs."""
    direct = np.bincount(cells.arc_cell, weights=cells.arc_capacity, minlength=cells.n_cells)
    hubs = np.bincount(cells.reach_cell, weights=cells.reach_capacity, minlength=cells.n_cells)
    return direct.astype(np.int64) + hubs.astype(np.int64)


def _retrimmed(cells: _Cells, keep: np.ndarray, keep_hub: np.ndarray) -> _Cells:
    """The kept arcs (orders unchanged), hub -> cell capacities cut to what the kept hub arcs
    carry, and each cell's cases cut to what its kept arcs can take (still best first), with
    their reach."""
    hub_total = np.bincount(
        cells.hub[keep_hub], weights=cells.hub_capacity[keep_hub], minlength=cells.n_hubs
    ).astype(np.int64)
    reach_capacity = np.minimum(cells.reach_capacity, hub_total[cells.reach_hub])
    reach_keep = reach_capacity > 0
    kept = replace(
        cells,
        arc_attorney=cells.arc_attorney[keep],
        arc_cell=cells.arc_cell[keep],
        arc_capacity=cells.arc_capacity[keep],
        affinity=cells.affinity[keep],
        hub_attorney=cells.hub_attorney[keep_hub],
        hub=cells.hub[keep_hub],
        hub_capacity=cells.hub_capacity[keep_hub],
        hub_affinity=cells.hub_affinity[keep_hub],
        reach_hub=cells.reach_hub[reach_keep],
        reach_cell=cells.reach_cell[reach_keep],
        reach_capacity=reach_capacity[reach_keep],
    )
    reach = _reach(kept)
    usable = np.minimum(np.diff(cells.start), reach)
    return replace(
        kept,
        start=np.concatenate(([0], np.cumsum(usable))).astype(np.int64),
        case=cells.case[ranges(cells.start[:-1], usable)],
        reach=reach,
    )
