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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from matching.solver.arrays import lexsort_ints, ranges
from matching.solver.instance import (
    MAX_VALUE,
    Instance,
    InstanceError,
    IntArray,
    _check_index,
    _check_range,
    _int_array,
    _sort_ids,
)


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

    @classmethod
    def from_arrays(
        cls,
        instance: Instance,
        *,
        hub_ids: Sequence[str],
        cell_start: ArrayLike,
        cell: ArrayLike,
        arc_attorney: ArrayLike,
        arc_hub: ArrayLike,
        affinity: ArrayLike,
    ) -> "Hubs":
        """Validate hubs over ``instance`` and return them in canonical order, as
        :meth:`Instance.from_arrays` does for an instance (errors name the input position:
        ``hubs[2]``, ``hub_arcs[5]``).

        ``cell`` (hub h's are ``cell[cell_start[h]:cell_start[h + 1]]``) and ``arc_attorney``
        are positions in ``instance``; ``arc_hub`` positions in ``hub_ids``.

        1. Check ranges; reject a cell listed twice by one hub and a repeated (attorney, hub)
           arc (which affinity would count?); every hub path must score above 0, as every arc.
        2. Sort hubs by id, each hub's cells by position, arcs by (attorney, hub).
        """
        n_hubs = len(hub_ids)
        order, rank, _ = _sort_ids(hub_ids, "hub")
        start = _int_array(cell_start, "hub cell_start", n_hubs + 1) if n_hubs else np.zeros(1)
        start = start.astype(np.int64)
        reach_hub = np.repeat(np.arange(n_hubs, dtype=np.int64), np.diff(start))
        reach_cell = _int_array(cell, "hub cells", len(reach_hub))
        n_arcs = len(np.asarray(arc_attorney))
        attorney = _int_array(arc_attorney, "hub arc_attorney", n_arcs)
        hub = _int_array(arc_hub, "hub arc_hub", n_arcs)
        affinity_ = _int_array(affinity, "hub affinity", n_arcs)
        _check_index(reach_cell, instance.n_cells, lambda i: f"hubs[{reach_hub[i]}]: cell")
        _check_index(attorney, instance.n_attorneys, lambda i: f"hub_arcs[{i}]: attorney")
        _check_index(hub, n_hubs, lambda i: f"hub_arcs[{i}]: hub")
        _check_range(affinity_, -MAX_VALUE, MAX_VALUE, lambda i: f"hub_arcs[{i}]: affinity")
        reach_order = _sorted_reach(instance, hub_ids, reach_hub, reach_cell, rank)
        _check_path_scores(instance, hub_ids, reach_hub, reach_cell, attorney, hub, affinity_)
        arc_order = _sorted_arcs(instance, hub_ids, attorney, rank[hub])
        sizes = np.diff(start)[order]
        return cls(
            cell_start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
            cell=reach_cell[reach_order],
            arc_attorney=attorney[arc_order],
            arc_hub=rank[hub[arc_order]],
            affinity=affinity_[arc_order],
        )

    def cell_arcs(self) -> tuple[IntArray, IntArray]:
        """(hub, cell) of every hub -> cell arc, sorted by hub then cell."""
        return np.repeat(np.arange(self.n_hubs), np.diff(self.cell_start)), self.cell


def hub_ids(n_hubs: int) -> list[str]:
    """Names for hubs that have none (an export's): ``h0``, ``h1``... zero-padded to one width,
    so that sorting them by id keeps their order."""
    width = len(str(max(n_hubs - 1, 0)))
    return [f"h{h:0{width}d}" for h in range(n_hubs)]


def _sorted_reach(
    instance: Instance, hub_ids: Sequence[str], hub: IntArray, cell: IntArray, rank: IntArray
) -> IntArray:
    """The order of the hub -> cell arcs by (hub id, cell); a cell twice in a hub is an error."""
    order = lexsort_ints((cell, rank[hub])) if len(hub) else hub
    twice = np.flatnonzero(
        (hub[order][1:] == hub[order][:-1]) & (cell[order][1:] == cell[order][:-1])
    )
    if twice.size:
        at = int(order[twice[0]])
        raise InstanceError(
            f"hubs[{int(hub[at])}]: hub {hub_ids[hub[at]]!r} lists cell "
            f"{instance.cell_ids[cell[at]]!r} twice"
        )
    return order


def _sorted_arcs(
    instance: Instance, hub_ids: Sequence[str], attorney: IntArray, hub: IntArray
) -> IntArray:
    """The order of the hub arcs by (attorney, hub id); a repeated pair is an error."""
    order = lexsort_ints((hub, attorney))
    a, h = attorney[order], hub[order]
    twice = np.flatnonzero((a[1:] == a[:-1]) & (h[1:] == h[:-1]))
    if twice.size:
        d = int(twice[0])
        raise InstanceError(
            f"hub_arcs[{int(order[d + 1])}]: duplicate arc from attorney "
            f"{instance.attorney_ids[a[d]]!r} to hub {sorted(hub_ids)[h[d]]!r}"
        )
    return order


def _check_path_scores(
    instance: Instance,
    hub_ids: Sequence[str],
    reach_hub: IntArray,
    reach_cell: IntArray,
    attorney: IntArray,
    hub: IntArray,
    affinity: IntArray,
) -> None:
    """Every pair a hub path can make must score above 0, as every arc's (instance.py)."""
    # Cases come best first within a cell: the last one is the lowest.
    lowest_case = instance.cell_start[1:] - 1
    cell_lowest = np.full(instance.n_cells, MAX_VALUE + 1, dtype=np.int64)
    filled = np.diff(instance.cell_start) > 0
    cell_lowest[filled] = instance.priority[lowest_case[filled]]
    hub_lowest = np.full(len(hub_ids), MAX_VALUE + 1, dtype=np.int64)
    np.minimum.at(hub_lowest, reach_hub, cell_lowest[reach_cell])
    low = hub_lowest[hub]
    bad = np.flatnonzero((low <= MAX_VALUE) & (affinity + low <= 0))
    if bad.size:
        i = int(bad[0])
        h = int(hub[i])
        cells = reach_cell[reach_hub == h]
        k = int(cells[np.argmin(cell_lowest[cells])])
        case = instance.case_ids[lowest_case[k]]
        w, p = int(affinity[i]), int(cell_lowest[k])
        raise InstanceError(
            f"hub_arcs[{i}]: attorney {instance.attorney_ids[attorney[i]]!r} and case {case!r} "
            f"(hub {hub_ids[h]!r}, cell {instance.cell_ids[k]!r}) score {w + p} (affinity {w} + "
            f"priority {p}); every allowed pair must score above 0"
        )


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

    The graph goes to SciPy as compressed rows with 32-bit indices, the form it works in, built
    straight from the canonical order (an attorney's arcs are consecutive; a hub's row holds its
    cells, then the attorneys entering it) instead of as pairs of 64-bit arrays that SciPy
    converts: 0.27 s of CPU at 3.7M cases (16.9M edges) instead of 0.37-1.28 s. Either way a
    label is the rank of its component's first node.
    """
    n_attorneys, n_cells, n_hubs = instance.n_attorneys, instance.n_cells, hubs.n_hubs
    n = n_attorneys + n_cells + n_hubs
    hub, cell = hubs.cell_arcs()
    entered = np.bincount(hubs.arc_hub, minlength=n_hubs) > 0
    hub, cell = hub[entered[hub]], cell[entered[hub]]
    hub_row = np.concatenate([hub, hubs.arc_hub])
    hub_column = np.concatenate([n_attorneys + cell, hubs.arc_attorney])
    per_row = np.zeros(n, dtype=np.int64)
    per_row[:n_attorneys] = np.bincount(instance.arc_attorney, minlength=n_attorneys)
    per_row[n_attorneys + n_cells :] = np.bincount(hub_row, minlength=n_hubs)
    index = np.int32 if per_row.sum() < 2**31 else np.int64
    row_start = np.zeros(n + 1, dtype=index)
    np.cumsum(per_row, out=row_start[1:])
    column = np.empty(int(row_start[-1]), dtype=index)
    np.add(instance.arc_cell, n_attorneys, out=column[: instance.n_arcs], casting="unsafe")
    column[instance.n_arcs :] = hub_column[np.argsort(hub_row, kind="stable")]
    # Imported here, not at the top: scipy costs every process ~0.3 s at start-up.
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    graph = csr_array((np.ones(len(column), dtype=np.int8), column, row_start), shape=(n, n))
    labels: IntArray = connected_components(graph, directed=False)[1]  # scipy: untyped
    return labels
