"""The run's exact solver: the cell flow of matching/solver/ with remote-work hubs.

On the backlog's distributions most attorney-cell arcs are remote-only: a remote-capable case, an
attorney who accepts remote work, a court too far for proximity points. Such a pair scores
``language + remote + experience`` whatever the court, so one attorney reaches hundreds of cells
(every court's docket in their language and case types) at the same affinity. A hub node per
(route language, via relay, case type) carries those pairs once: attorney -> hub at that affinity,
hub -> each of its cells at 0.

Why the optimum is unchanged. (1) Every hub path joins an eligible pair (both sides remote-capable,
language and case type shared) at a value no higher than the pair's true affinity (true points take
the best language route and the better of proximity and remote). (2) Every eligible pair has a
path at exactly its true affinity: a direct arc when proximity points win, or the hub of its best
language route. A cell has several language routes (its main language and every other language
the person speaks, directly; its relay language) and joins the hub of each, so both hold however
many there are (matching/pipeline/score.py, ``_hubs``). Cases with an exclusion sit in cells of
their own that join no hub. So any flow decomposes into allowed pairs whose true total is at least
the flow's value, and any assignment is a flow of exactly its value: the two optima coincide, and
the decomposed pairs score exactly their path values. tests/matching/test_runs.py checks this
against ``solver.solve`` on the materialised instance.
"""

from array import array

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from matching.pipeline.score import Hubs, IntArray
from matching.solver import (
    Assignment,
    Instance,
    Solution,
    SolverError,
    add_arcs,
    greedy_merge,
    ranges,
    solution_of,
)


def _hub_cell_arcs(hubs: Hubs) -> tuple[IntArray, IntArray]:
    """(hub, cell) of every hub -> cell arc, sorted by hub then cell."""
    return np.repeat(np.arange(hubs.n_hubs), np.diff(hubs.cell_start)), hubs.cell


def _span(arcs: IntArray) -> tuple[int, int]:
    """The [start, stop) of arc indices the network numbered consecutively."""
    if not len(arcs):
        return 0, 0
    start, stop = int(arcs[0]), int(arcs[-1]) + 1
    if stop - start != len(arcs):
        raise SolverError("the network did not number its arcs consecutively")
    return start, stop


def solve_with_hubs(instance: Instance, hubs: Hubs) -> Solution:
    """The optimal matching over direct arcs and hubs, by one min-cost flow.

    1. Arcs: source -> attorney (free capacity); attorney -> cell (direct, -affinity);
       attorney -> hub (-affinity); hub -> cell (0); cell -> sink per run of equal priority over
       the cases the cell could ever pass (-priority); source -> sink bypass (0), so matching
       stays optional.
    2. Decompose: in each cell, direct units (by attorney) then hub units (by hub) meet the
       cell's taken cases best first; each hub's units then meet its attorneys' units in order.
    """
    capacity = instance.capacity
    sizes = np.diff(instance.cell_start)
    total = int(capacity.sum())
    d_att, d_cell, d_aff = instance.arc_attorney, instance.arc_cell, instance.affinity
    d_cap = np.minimum(capacity[d_att], sizes[d_cell])
    h_att, h_hub, h_aff = hubs.arc_attorney, hubs.arc_hub, hubs.affinity
    h_cap = capacity[h_att]
    hc_hub, hc_cell = _hub_cell_arcs(hubs)
    hub_total = np.bincount(h_hub, weights=h_cap, minlength=hubs.n_hubs).astype(np.int64)
    hc_cap = np.minimum(sizes[hc_cell], hub_total[hc_hub])
    reach = np.bincount(d_cell, weights=d_cap, minlength=instance.n_cells).astype(np.int64)
    reach += np.bincount(hc_cell, weights=hc_cap, minlength=instance.n_cells).astype(np.int64)
    usable = np.minimum(sizes, reach).astype(np.int64)
    if total == 0 or usable.sum() == 0:
        return Solution(objective=0, assignments=())
    run_start, run_size = _priority_runs(instance, usable)
    run_cell = np.searchsorted(instance.cell_start, run_start, side="right") - 1

    n_a, n_k = instance.n_attorneys, instance.n_cells
    attorney_node = 2 + np.arange(n_a)
    cell_node = 2 + n_a + np.arange(n_k)
    hub_node = 2 + n_a + n_k + np.arange(hubs.n_hubs)
    network = min_cost_flow.SimpleMinCostFlow()
    add_arcs(network, [0], [1], [total], [0])
    add_arcs(network, np.zeros(n_a), attorney_node, capacity, 0)
    # Arc index ranges, not arrays: at backlog scale each array is ~100 MB, held for nothing
    # while the network (its own copy of everything) solves.
    direct = _span(add_arcs(network, attorney_node[d_att], cell_node[d_cell], d_cap, -d_aff))
    into_hub = _span(add_arcs(network, attorney_node[h_att], hub_node[h_hub], h_cap, -h_aff))
    out_of_hub = _span(add_arcs(network, hub_node[hc_hub], cell_node[hc_cell], hc_cap, 0))
    runs = _span(add_arcs(
        network, cell_node[run_cell], np.ones(len(run_start)), run_size,
        -instance.priority[run_start],
    ))  # fmt: skip
    del d_cap, h_cap, hc_cap, attorney_node, cell_node, hub_node
    network.set_nodes_supplies(np.array([0, 1], dtype=np.int32), np.array([total, -total]))
    status = network.solve()
    if status != network.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}")
    flows = {
        "direct": network.flows(np.arange(*direct)),
        "into_hub": network.flows(np.arange(*into_hub)),
        "out_of_hub": network.flows(np.arange(*out_of_hub)),
        "runs": network.flows(np.arange(*runs)),
    }
    flows["run_start"] = run_start
    return _decompose(instance, hubs, flows, expected=-network.optimal_cost())


def _priority_runs(instance: Instance, usable: IntArray) -> tuple[IntArray, IntArray]:
    """Runs of equal priority within each cell's usable prefix: (first case, length)."""
    position = ranges(instance.cell_start[:-1], usable)
    if not len(position):
        return position, position
    priority = instance.priority[position]
    cell_of = np.searchsorted(instance.cell_start, position, side="right") - 1
    boundary = np.ones(len(position), dtype=bool)
    boundary[1:] = (priority[1:] != priority[:-1]) | (cell_of[1:] != cell_of[:-1])
    first = np.flatnonzero(boundary)
    return position[first], np.diff(np.append(first, len(position)))


def _decompose(instance: Instance, hubs: Hubs, flows: dict, *, expected: int) -> Solution:
    d_flow, h_flow, hc_flow = flows["direct"], flows["into_hub"], flows["out_of_hub"]
    hc_hub, hc_cell = _hub_cell_arcs(hubs)
    # Units entering each cell: direct (attorney, affinity) first, then hub units.
    d_order = np.lexsort((instance.arc_attorney, instance.arc_cell))
    unit_cell = np.concatenate(
        [np.repeat(instance.arc_cell[d_order], d_flow[d_order]), np.repeat(hc_cell, hc_flow)]
    )
    unit_kind = np.concatenate([np.zeros(int(d_flow.sum())), np.ones(int(hc_flow.sum()))])
    unit_source = np.concatenate(
        [np.repeat(d_order, d_flow[d_order]), np.repeat(np.arange(len(hc_hub)), hc_flow)]
    )
    order = np.lexsort((unit_source, unit_kind, unit_cell))
    unit_cell, unit_kind, unit_source = unit_cell[order], unit_kind[order], unit_source[order]
    case = np.sort(
        ranges(flows["run_start"], flows["runs"])
    )  # by position = by cell, best first within the cell
    if len(case) != len(unit_cell):
        raise SolverError("flow is not conserved through the cells")
    case_cell = np.searchsorted(instance.cell_start, case, side="right") - 1
    if not np.array_equal(case_cell, unit_cell):
        raise SolverError("flow is not conserved cell by cell")

    attorney = np.empty(len(case), dtype=np.int64)
    affinity = np.empty(len(case), dtype=np.int64)
    is_direct = unit_kind == 0
    arc = unit_source[is_direct]
    attorney[is_direct] = instance.arc_attorney[arc]
    affinity[is_direct] = instance.affinity[arc]
    # Hub units, grouped by hub (cells in order), meet the hub's attorney units in order.
    via_hub = np.flatnonzero(~is_direct)
    hub_of_unit = hc_hub[unit_source[via_hub]]
    via_hub = via_hub[np.argsort(hub_of_unit, kind="stable")]
    h_order = np.lexsort((hubs.arc_attorney, hubs.arc_hub))
    h_units = np.repeat(h_order, h_flow[h_order])
    if len(h_units) != len(via_hub):
        raise SolverError("flow is not conserved through the hubs")
    attorney[via_hub] = hubs.arc_attorney[h_units]
    affinity[via_hub] = hubs.affinity[h_units]

    score = affinity + instance.priority[case]
    if int(score.sum()) != expected:
        raise SolverError(f"pairs score {int(score.sum())}, the flow claims {expected}")
    return solution_of(instance, attorney, case, score)


# ---------------------------------------------------------------------------------------------
# Greedy baseline over the same graph


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
    d_order = np.lexsort((instance.arc_attorney, -instance.affinity, instance.arc_cell))
    h_order = np.lexsort((hubs.arc_attorney, -hubs.affinity, hubs.arc_hub))
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
    for h, k in zip(*(a.tolist() for a in _hub_cell_arcs(hubs)), strict=True):
        if h_start[h + 1] > h_start[h]:
            cell_runs[k].append(instance.n_cells + h)
    remaining = instance.capacity.tolist()
    case_ids, priority = instance.case_ids, instance.priority
    next_case = instance.cell_start[:-1].tolist()
    case_end = instance.cell_start[1:].tolist()

    def best(cell: int):
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


# ---------------------------------------------------------------------------------------------
# The same problem without hubs, and component batches


def _gathered(*parts: tuple[IntArray, IntArray], chunk: int = 1 << 20) -> array:
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


def materialise(instance: Instance, hubs: Hubs) -> Instance:
    """The equivalent instance in the solver's format: every hub path becomes an attorney-cell
    arc, keeping the better affinity where a pair has two. For export_instance and tests."""
    per_hub = np.diff(hubs.cell_start)
    repeat = per_hub[hubs.arc_hub]
    attorney = np.concatenate([instance.arc_attorney, np.repeat(hubs.arc_attorney, repeat)])
    cell = np.concatenate(
        [instance.arc_cell, hubs.cell[ranges(hubs.cell_start[hubs.arc_hub], repeat)]]
    )
    affinity = np.concatenate([instance.affinity, np.repeat(hubs.affinity, repeat)])
    order = np.lexsort((-affinity, cell, attorney))
    attorney, cell, affinity = attorney[order], cell[order], affinity[order]
    first = np.ones(len(attorney), dtype=bool)
    first[1:] = (attorney[1:] != attorney[:-1]) | (cell[1:] != cell[:-1])
    return Instance.from_arrays(
        attorney_ids=instance.attorney_ids.tolist(),
        capacity=instance.capacity,
        cell_ids=instance.cell_ids.tolist(),
        case_ids=instance.case_ids.tolist(),
        case_cell=instance.case_cell(),
        priority=instance.priority,
        arc_attorney=attorney[first],
        arc_cell=cell[first],
        affinity=affinity[first],
        excluded_attorney=instance.excluded_attorney,
        excluded_case=instance.excluded_case,
    )


def component_labels(instance: Instance, hubs: Hubs) -> IntArray:
    """Connected-component label of every node: attorneys, then cells, then hubs.

    A hub no attorney can enter carries nothing, so it joins nothing: left in, the hubs of
    remote-capable cells would tie the whole country into one component even when no attorney
    works remotely, and a run would write everything in one transaction.
    """
    n_a, n_k = instance.n_attorneys, instance.n_cells
    hc_hub, hc_cell = _hub_cell_arcs(hubs)
    entered = np.bincount(hubs.arc_hub, minlength=hubs.n_hubs) > 0
    hc_hub, hc_cell = hc_hub[entered[hc_hub]], hc_cell[entered[hc_hub]]
    tails = np.concatenate([instance.arc_attorney, hubs.arc_attorney, n_a + n_k + hc_hub])
    heads = np.concatenate([n_a + instance.arc_cell, n_a + n_k + hubs.arc_hub, n_a + hc_cell])
    n = n_a + n_k + hubs.n_hubs
    graph = coo_array((np.ones(len(tails), dtype=np.int8), (tails, heads)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def component_batches(
    instance: Instance, hubs: Hubs, solution: Solution, *, batch_assignments: int
) -> tuple[list[Solution], int]:
    """Split a solution by connected component of the attorney-cell-hub graph, packing small
    components into batches of about ``batch_assignments``; also return the component count."""
    labels = component_labels(instance, hubs)
    used = np.unique(labels[np.concatenate([instance.arc_attorney, hubs.arc_attorney])])
    if not solution.assignments:
        return [], len(used)
    index = {a: i for i, a in enumerate(instance.attorney_ids.tolist())}
    label = labels[[index[a.attorney] for a in solution.assignments]]
    groups: dict[int, list[Assignment]] = {}
    for lab, assignment in zip(label.tolist(), solution.assignments, strict=True):
        groups.setdefault(lab, []).append(assignment)
    batches: list[list[Assignment]] = [[]]
    for lab in sorted(groups):
        if len(batches[-1]) >= batch_assignments:
            batches.append([])
        batches[-1].extend(groups[lab])
    return [
        Solution(objective=sum(a.score for a in b), assignments=tuple(b)) for b in batches
    ], len(used)
