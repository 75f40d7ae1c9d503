"""Hubs: many attorney-cell arcs of equal affinity carried by one node, a variant of the cell flow.

A hub h reaches the cells ``cell[cell_start[h]:cell_start[h + 1]]``; arc i lets attorney
``arc_attorney[i]`` into hub ``arc_hub[i]`` at ``affinity[i]``. A path attorney -> hub -> cell
stands for the attorney-cell arc at the hub arc's affinity, so an instance with hubs means the
instance :func:`materialise` returns: every hub path made an arc, keeping the better affinity
where a pair has two. :func:`matching.solver.solve_component` and
:func:`matching.solver.solve_greedy` take hubs directly and return that instance's optimum and
greedy result without materialising it.

The run pipeline builds hubs for remote work (matching/pipeline/score.py, ``_hubs``): one
attorney reaches hundreds of cells (every court's docket in their language and case type) at the
same affinity, and one hub per (language route, case type) carries those pairs once.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from matching.solver.arrays import lexsort_ints, ranges
from matching.solver.instance import Instance, IntArray


@dataclass(frozen=True, eq=False, slots=True)
class Hubs:
    """Hub -> cell reach (``cell_start``, ``cell``; cells by position in the instance, sorted
    within each hub) and attorney -> hub arcs (``arc_attorney``, ``arc_hub``, ``affinity``)."""

    cell_start: IntArray
    cell: IntArray
    arc_attorney: IntArray
    arc_hub: IntArray
    affinity: IntArray

    @property
    def n_hubs(self) -> int:
        return len(self.cell_start) - 1

    @classmethod
    def none(cls) -> "Hubs":
        """No hubs: the plain cell flow."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(1, dtype=np.int64), empty, empty, empty, empty)

    def cell_arcs(self) -> tuple[IntArray, IntArray]:
        """(hub, cell) of every hub -> cell arc, sorted by hub then cell."""
        return np.repeat(np.arange(self.n_hubs), np.diff(self.cell_start)), self.cell


def materialise(instance: Instance, hubs: Hubs) -> Instance:
    """The equivalent instance without hubs: every hub path becomes an attorney-cell arc,
    keeping the better affinity where a pair has two. For fan-out and tests (export_instance
    writes the same arcs without building them: writer.write_instance)."""
    attorney, cell, affinity = _arcs_with_paths(instance, hubs)
    return Instance.from_arrays(
        attorney_ids=instance.attorney_ids.tolist(),
        capacity=instance.capacity,
        cell_ids=instance.cell_ids.tolist(),
        case_ids=instance.case_ids.tolist(),
        case_cell=instance.case_cell(),
        priority=instance.priority,
        arc_attorney=attorney,
        arc_cell=cell,
        affinity=affinity,
        excluded_attorney=instance.excluded_attorney,
        excluded_case=instance.excluded_case,
    )


def _arcs_with_paths(instance: Instance, hubs: Hubs) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney, cell, affinity) of the direct arcs and of every hub path: one per pair, at
    its best affinity, sorted by (attorney, cell)."""
    hub = hubs.arc_hub
    repeat = np.diff(hubs.cell_start)[hub]
    attorney = np.concatenate([instance.arc_attorney, np.repeat(hubs.arc_attorney, repeat)])
    cell = np.concatenate([instance.arc_cell, hubs.cell[ranges(hubs.cell_start[hub], repeat)]])
    affinity = np.concatenate([instance.affinity, np.repeat(hubs.affinity, repeat)])
    order = lexsort_ints((-affinity, cell, attorney))
    attorney, cell, affinity = attorney[order], cell[order], affinity[order]
    first = np.ones(len(attorney), dtype=bool)
    first[1:] = (attorney[1:] != attorney[:-1]) | (cell[1:] != cell[:-1])
    return attorney[first], cell[first], affinity[first]


def component_labels(instance: Instance, hubs: Hubs) -> IntArray:
    """Connected-component label of every node: attorneys, then cells, then hubs.

    A hub no attorney can enter carries nothing, so it joins nothing: left in, the hubs of
    remote-capable cells would tie the whole country into one component even when no attorney
    works remotely, and a run would write everything in one transaction.
    """
    n_attorneys, n_cells = instance.n_attorneys, instance.n_cells
    hub, cell = hubs.cell_arcs()
    entered = np.bincount(hubs.arc_hub, minlength=hubs.n_hubs) > 0
    hub, cell = hub[entered[hub]], cell[entered[hub]]
    first_hub = n_attorneys + n_cells
    tails = np.concatenate([instance.arc_attorney, hubs.arc_attorney, first_hub + hub])
    heads = np.concatenate(
        [n_attorneys + instance.arc_cell, first_hub + hubs.arc_hub, n_attorneys + cell]
    )
    n = first_hub + hubs.n_hubs
    graph = coo_array((np.ones(len(tails), dtype=np.int8), (tails, heads)), shape=(n, n))
    labels: IntArray = connected_components(graph, directed=False)[1]  # scipy: untyped
    return labels
