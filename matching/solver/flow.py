"""The optimal solver: one min-cost flow on OR-Tools per component batch."""

import numpy as np
from numpy.typing import ArrayLike, NDArray
from ortools.graph.python import min_cost_flow

from matching.solver.cells import _Cells, _cells_without_exclusions, ranges
from matching.solver.components import components
from matching.solver.instance import Instance, IntArray, SolverError
from matching.solver.solution import Solution, merge_solutions, solution_of

# solve() packs small components into parts of about this many arcs: one flow per tiny
# component would spend more time in Python than in OR-Tools (see components()).
SOLVE_BATCH_ARCS = 100_000

_SOURCE = 0
_SINK = 1
_FIRST_ATTORNEY_NODE = 2


def solve(instance: Instance) -> Solution:
    """The optimal matching: solve each connected component on its own, then merge.

    Components share no attorney and no case, so their optima add up to the whole optimum.
    Small ones are solved together in batches. A Celery group can run :func:`solve_component`
    over :func:`components` and :func:`merge_solutions` the results the same way.
    """
    parts = components(instance, batch_arcs=SOLVE_BATCH_ARCS)
    return merge_solutions(solve_component(part) for part in parts)


def solve_component(instance: Instance) -> Solution:
    """The optimal matching of any instance (connected or not) by one min-cost flow.

    1. Split exclusions into cells of their own and trim unusable arcs and cases.
    2. Build source -> attorney (capacity, cost 0) -> cell (min(capacity, cell size),
       -affinity) -> sink, with one cell -> sink arc per run of equal priority in the cell
       (run length, -priority), and a source -> sink bypass of cost 0.
    3. Put all attorney capacity U on the source and -U on the sink. Unused capacity takes
       the bypass for free, so matching stays optional and the flow minimises -score; forcing
       maximum flow instead would trade score for more matches.
    4. Pair each cell's inflow (attorneys in id order) with its outflow (cases best first).
    """
    cells = _cells_without_exclusions(instance)
    total = int(instance.capacity.sum())
    if total == 0 or len(cells.arc_attorney) == 0:
        return Solution(objective=0, assignments=())

    network = min_cost_flow.SimpleMinCostFlow()
    attorney_node = _FIRST_ATTORNEY_NODE + np.arange(instance.n_attorneys, dtype=np.int64)
    cell_node = _FIRST_ATTORNEY_NODE + instance.n_attorneys + np.arange(cells.n_cells)
    group_start, group_size = _priority_runs(instance, cells)
    group_cell = np.searchsorted(cells.start, group_start, side="right") - 1

    add_arcs(network, [_SOURCE], [_SINK], [total], [0])
    add_arcs(network, np.full(len(attorney_node), _SOURCE), attorney_node, instance.capacity, 0)
    attorney_arcs = add_arcs(
        network,
        attorney_node[cells.arc_attorney],
        cell_node[cells.arc_cell],
        cells.arc_capacity,
        -cells.affinity,
    )
    group_arcs = add_arcs(
        network,
        cell_node[group_cell],
        np.full(len(group_start), _SINK),
        group_size,
        -instance.priority[cells.case[group_start]],
    )
    network.set_nodes_supplies(
        np.array([_SOURCE, _SINK], dtype=np.int32), np.array([total, -total], dtype=np.int64)
    )
    status = network.solve()
    if status != network.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}")

    return _decompose(
        instance,
        cells,
        attorney_flow=network.flows(attorney_arcs),
        case_position=ranges(group_start, network.flows(group_arcs)),
        expected=-network.optimal_cost(),
    )


def _priority_runs(instance: Instance, cells: _Cells) -> tuple[IntArray, IntArray]:
    """Runs of equal priority within each cell: (first position, length) in ``cells.case``.

    Cases of a run are interchangeable, so one arc per run replaces one arc per case.
    """
    n = len(cells.case)
    priority = instance.priority[cells.case]
    boundary = np.zeros(n, dtype=bool)
    boundary[cells.start[:-1][np.diff(cells.start) > 0]] = True
    boundary[1:] |= priority[1:] != priority[:-1]
    first = np.flatnonzero(boundary)
    return first, np.diff(np.append(first, n))


def add_arcs(
    network: min_cost_flow.SimpleMinCostFlow,
    tails: ArrayLike,
    heads: ArrayLike,
    capacities: ArrayLike,
    costs: ArrayLike,
) -> NDArray[np.int32]:
    tails_ = np.asarray(tails, dtype=np.int32)
    n = len(tails_)
    return network.add_arcs_with_capacity_and_unit_cost(
        tails_,
        np.asarray(heads, dtype=np.int32),
        np.broadcast_to(np.asarray(capacities, dtype=np.int64), n).copy(),
        np.broadcast_to(np.asarray(costs, dtype=np.int64), n).copy(),
    ).astype(np.int32)


def _decompose(
    instance: Instance,
    cells: _Cells,
    *,
    attorney_flow: IntArray,
    case_position: IntArray,
    expected: int,
) -> Solution:
    """Turn cell flows into pairs.

    Arcs are sorted by (cell, attorney) and case positions by cell, best first, so repeating
    each attorney by its flow lines both up cell by cell. Any pairing within a cell is allowed
    and scores the same; this one is deterministic.
    """
    attorney = np.repeat(cells.arc_attorney, attorney_flow)
    affinity = np.repeat(cells.affinity, attorney_flow)
    case = cells.case[case_position]
    if len(attorney) != len(case):
        raise SolverError("flow is not conserved through the cells")
    score = affinity + instance.priority[case]
    if int(score.sum()) != expected:
        raise SolverError(f"pairs score {int(score.sum())}, the flow claims {expected}")
    return solution_of(instance, attorney, case, score)
