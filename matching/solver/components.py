"""Connected components of an instance's attorney-cell graph, optionally packed in batches, and
a solution split by the components of an attorney-cell-hub graph (a run's write batches)."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.solver.arrays import ranges
from matching.solver.hubs import Hubs, component_labels
from matching.solver.instance import Instance, IntArray, _inverse, freeze
from matching.solver.solution import Pairs, Solution


def components(instance: Instance, *, batch_arcs: int = 0) -> list[Instance]:
    """Split an instance into the connected components of its attorney-cell graph.

    Components without arcs are left out: they cannot produce a match. With ``batch_arcs``,
    consecutive components are packed into parts of about that many arcs (a bigger component
    stays whole), because a flow per tiny component costs far more in Python overhead than
    the solving saves. Each part keeps canonical order, so ``solve_component`` on it is as
    deterministic as on the whole.

    1. Label attorneys and cells with SciPy's connected components; relabel into batches.
    2. Stable-sort attorneys, cells, arcs and exclusions by label; cases follow their cell.
    3. Renumber references within each part and slice.
    """
    attorney_label, cell_label = _component_labels(instance, batch_arcs=batch_arcs)
    case_cell = instance.case_cell()
    # An exclusion across components cannot bind: the attorney has no arc to the case's cell.
    excluded_label = attorney_label[instance.excluded_attorney]
    binding = excluded_label == cell_label[case_cell[instance.excluded_case]]

    attorneys = _Grouping(attorney_label)
    cells = _Grouping(cell_label)
    arcs = _Grouping(attorney_label[instance.arc_attorney])
    exclusions = _Grouping(np.where(binding, excluded_label, -1))

    # Cases in cell-grouped order; case_start[s] is where the cell in slot s begins.
    sizes = np.diff(instance.cell_start)[cells.order]
    case_order = ranges(instance.cell_start[:-1][cells.order], sizes)
    case_start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    first_slot_of_component = _inverse(cells.order) - cells.local
    case_local = _inverse(case_order) - case_start[first_slot_of_component[case_cell]]

    parts = []
    for label in np.unique(attorney_label[instance.arc_attorney]).tolist():
        slots = cells.slice(label)
        a, c, r, x = (g.order[g.slice(label)] for g in (attorneys, cells, arcs, exclusions))
        case = case_order[case_start[slots.start] : case_start[slots.stop]]
        part = Instance(
            attorney_ids=instance.attorney_ids[a],
            capacity=instance.capacity[a],
            cell_ids=instance.cell_ids[c],
            cell_start=case_start[slots.start : slots.stop + 1] - case_start[slots.start],
            case_ids=instance.case_ids[case],
            priority=instance.priority[case],
            arc_attorney=attorneys.local[instance.arc_attorney[r]],
            arc_cell=cells.local[instance.arc_cell[r]],
            affinity=instance.affinity[r],
            excluded_attorney=attorneys.local[instance.excluded_attorney[x]],
            excluded_case=case_local[instance.excluded_case[x]],
        )
        freeze(part)
        parts.append(part)
    return parts


def _component_labels(instance: Instance, *, batch_arcs: int) -> tuple[IntArray, IntArray]:
    """Part label of every attorney and every cell: its component, or its batch of them."""
    # Imported here, not at the top: scipy costs every process ~0.3 s at start-up.
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    n_attorneys, n_nodes = instance.n_attorneys, instance.n_attorneys + instance.n_cells
    edges = (instance.arc_attorney, n_attorneys + instance.arc_cell)
    graph = coo_array((np.ones(instance.n_arcs, dtype=np.int8), edges), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    if batch_arcs > 0:
        # A component joins the batch its first arc falls in when arcs are laid end to end.
        arcs = np.bincount(labels[instance.arc_attorney], minlength=labels.max(initial=-1) + 1)
        batch = np.where(arcs > 0, (np.cumsum(arcs) - arcs) // batch_arcs, -1)
        labels = batch[labels]  # -1: no arcs, so in no part
    return labels[:n_attorneys], labels[n_attorneys:]


class _Grouping:
    """Items stable-sorted by label: ``order[slice(label)]`` are the label's items, in order,
    and ``local[i]`` is item i's position within its label."""

    def __init__(self, labels: NDArray[np.integer]) -> None:
        self.order = np.argsort(labels, kind="stable")
        sorted_labels = labels[self.order]
        self._labels = sorted_labels
        first = np.searchsorted(sorted_labels, sorted_labels, side="left")
        self.local = np.empty(len(labels), dtype=np.int64)
        self.local[self.order] = np.arange(len(labels)) - first

    def slice(self, label: int) -> slice:
        return slice(
            int(np.searchsorted(self._labels, label, side="left")),
            int(np.searchsorted(self._labels, label, side="right")),
        )


@dataclass(frozen=True, slots=True)
class AttorneyComponents:
    """The connected component of every attorney in the attorney-cell-hub graph, and how many
    components have arcs: what :func:`component_batches` splits a solution by. They do not
    depend on the solution, so a run computes them beside its solve (pipeline/beside_solve.py)."""

    label: IntArray
    count: int


def attorney_components(instance: Instance, hubs: Hubs) -> AttorneyComponents:
    labels = component_labels(instance, hubs)[: instance.n_attorneys].astype(np.int64)
    # The components with arcs: those of the attorneys with one (a direct arc or a hub's).
    with_arcs = np.zeros(instance.n_attorneys, dtype=bool)
    with_arcs[instance.arc_attorney] = with_arcs[hubs.arc_attorney] = True
    return AttorneyComponents(labels, len(np.unique(labels[with_arcs])))


def component_batches(
    instance: Instance,
    hubs: Hubs,
    solution: Solution,
    *,
    batch_assignments: int,
    components: AttorneyComponents | None = None,
) -> tuple[list[Solution], int]:
    """Split a solution by connected component of the attorney-cell-hub graph (``components``,
    computed here if not given), packing small components into batches of about
    ``batch_assignments``; also return the component count.

    1. Label each pair by its attorney's component.
    2. Stable-sort the pairs by label; a batch takes whole components in label order, and
       the next component starts a new batch once it holds ``batch_assignments`` or more.
    """
    if components is None:
        components = attorney_components(instance, hubs)
    if not solution.assigned:
        return [], components.count
    pairs = solution.pairs
    label = components.label[_attorney_positions(instance, pairs)]
    order = np.argsort(label, kind="stable")
    _, sizes = np.unique(label[order], return_counts=True)
    batch_starts, filled = [0], 0
    for start, size in zip((np.cumsum(sizes) - sizes).tolist(), sizes.tolist(), strict=True):
        if filled >= batch_assignments:
            batch_starts.append(start)
            filled = 0
        filled += size
    bounds = [*batch_starts, len(order)]
    batches = [pairs.take(order[bounds[i] : bounds[i + 1]]) for i in range(len(batch_starts))]
    return [Solution(int(b.score.sum()), pairs=b) for b in batches], components.count


def _attorney_positions(instance: Instance, pairs: Pairs) -> IntArray:
    """The position in ``instance`` of each pair's attorney: as it is when the pairs are the
    instance's own (its solution), else found by id."""
    if pairs.attorney_ids is instance.attorney_ids:
        return pairs.attorney
    positions: IntArray = np.searchsorted(instance.attorney_ids, pairs.attorney_ids[pairs.attorney])
    return positions
