"""The optimal solver: one min-cost flow on OR-Tools per component batch, with optional hubs."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from matching.solver.arrays import ranges
from matching.solver.cells import _Cells, _cells_without_exclusions
from matching.solver.components import components
from matching.solver.dominance import without_dominated_arcs
from matching.solver.hubs import Hubs
from matching.solver.instance import Instance, IntArray, SolverError

if TYPE_CHECKING:  # imported where a network is made: ~0.1 s that only solving processes pay
    from ortools.graph.python import min_cost_flow
from matching.solver.solution import Solution, merge_solutions, solution_of

# solve() packs small components into parts of about this many arcs: one flow per tiny
# component would spend more time in Python than in OR-Tools (see components()).
SOLVE_BATCH_ARCS = 100_000

# The network runs from the cases to the attorneys (solve_component, steps 2-3).
_TERMINAL = 0
_FIRST_ATTORNEY_NODE = 1


def import_solver_libraries() -> None:
    """Import what solving takes from scipy (the components: 0.3-0.7 s) and OR-Tools (the
    network: 0.05-0.1 s, a tenth of a small run), so that a process's first run does not pay
    for them: a worker calls this when it starts (matching.tasks.runs); the solver imports
    them lazily, so that web processes never do."""
    import scipy.sparse.csgraph  # noqa: F401
    from ortools.graph.python import min_cost_flow  # noqa: F401


def solve(instance: Instance) -> Solution:
    """The optimal matching: solve each connected component on its own, then merge.

    Components share no attorney and no case, so their optima add up to the whole optimum.
    Small ones are solved together in batches. A Celery group can run :func:`solve_component`
    over :func:`components` and :func:`merge_solutions` the results the same way.
    """
    parts = components(instance, batch_arcs=SOLVE_BATCH_ARCS)
    return merge_solutions(solve_component(part) for part in parts)


def solve_component(instance: Instance, hubs: Hubs | None = None) -> Solution:
    """The optimal matching of any instance (connected or not) by one min-cost flow.

    With ``hubs``, the optimum of ``materialise(instance, hubs)`` (hubs.py), without building it.

    1. Split exclusions into cells of their own and trim unusable arcs and cases (cells.py);
       drop the arcs no optimal solution uses (dominance.py).
    2. Build the network backwards, from the cases to the attorneys: a terminal node ->
       cell, one arc per run of equal priority in the cell (run length, -priority), -> attorney
       (min(capacity, cell size), -affinity), and terminal -> attorney bypasses (capacity,
       cost 0). Hubs add cell -> hub (cost 0) -> attorney (capacity, -affinity) paths beside
       the direct arcs.
    3. The terminal supplies all attorney capacity U and each attorney demands its capacity.
       Unused capacity takes its bypass for free, so matching stays optional and the flow
       minimises -score; forcing maximum flow instead would trade score for more matches.
       Every arc carries what the attorney -> cell -> case flow would, reversed: OR-Tools'
       cost scaling solves this form in about 12% less CPU than the forward one on the seeded
       worlds (docs/scaling.md, "Why the solve takes longer than the anchor's").
    4. Pair each cell's inflow with its outflow (cases best first): see :func:`_decompose`.
    """
    cells = without_dominated_arcs(
        instance, _cells_without_exclusions(instance, hubs, by_cell=False)
    )
    total = int(instance.capacity.sum())
    if total == 0 or len(cells.case) == 0:
        return Solution(objective=0, assignments=())

    from ortools.graph.python import min_cost_flow

    network = min_cost_flow.SimpleMinCostFlow()
    spans, run_start = _add_network_arcs(network, instance, cells)
    network.set_nodes_supplies(
        np.arange(_FIRST_ATTORNEY_NODE + instance.n_attorneys, dtype=np.int32),
        np.concatenate(([total], -instance.capacity)).astype(np.int64),
    )
    status = network.solve()
    if status != network.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}")
    flows = _Flows(*(network.flows(np.arange(*span)) for span in spans))
    return _decompose(instance, cells, flows, run_start, expected=-network.optimal_cost())


@dataclass(frozen=True, slots=True)
class _Flows:
    """Units on each group of arcs, in the order of ``_Cells`` (runs: in ``run_start`` order),
    named for the attorney -> case direction they stand for (the network's arcs point back)."""

    direct: IntArray  # attorney -> cell
    into_hub: IntArray  # attorney -> hub
    out_of_hub: IntArray  # hub -> cell
    runs: IntArray  # cell -> its cases


def _add_network_arcs(
    network: "min_cost_flow.SimpleMinCostFlow", instance: Instance, cells: _Cells
) -> tuple[list[tuple[int, int]], IntArray]:
    """Add every arc (step 2 of :func:`solve_component`, each from the case side to the
    attorney side); return the arc index span of each group of :class:`_Flows` and the first
    case position of each priority run.

    Spans, not index arrays: at backlog scale each array is ~100 MB, held for nothing while
    the network (its own copy of everything) solves.
    """
    first_cell_node = _FIRST_ATTORNEY_NODE + instance.n_attorneys
    attorney_node = _FIRST_ATTORNEY_NODE + np.arange(instance.n_attorneys, dtype=np.int64)
    cell_node = first_cell_node + np.arange(cells.n_cells, dtype=np.int64)
    hub_node = first_cell_node + cells.n_cells + np.arange(cells.n_hubs, dtype=np.int64)
    run_start, run_size = _priority_runs(instance, cells)
    run_cell = np.searchsorted(cells.start, run_start, side="right") - 1

    spans = [
        _span(add_arcs(network, _nodes(first_cell_node, cells.arc_cell),
                       _nodes(_FIRST_ATTORNEY_NODE, cells.arc_attorney), cells.arc_capacity,
                       -cells.affinity)),
        _span(add_arcs(network, hub_node[cells.hub], attorney_node[cells.hub_attorney],
                       cells.hub_capacity, -cells.hub_affinity)),
        _span(add_arcs(network, cell_node[cells.reach_cell], hub_node[cells.reach_hub],
                       cells.reach_capacity, 0)),
        _span(add_arcs(network, np.full(len(run_start), _TERMINAL), cell_node[run_cell], run_size,
                       -instance.priority[cells.case[run_start]])),
    ]  # fmt: skip
    # Last, so that each attorney's bypass comes after its cells among its arcs.
    add_arcs(network, np.full(len(attorney_node), _TERMINAL), attorney_node, instance.capacity, 0)
    return spans, run_start


def _nodes(first: int, positions: IntArray) -> NDArray[np.int32]:
    """The nodes ``first + positions``, written straight as the int32 the network takes (no
    int64 array of them first: over the direct arcs, two fewer arrays of 8 bytes an arc)."""
    nodes = np.empty(len(positions), dtype=np.int32)
    np.add(positions, first, out=nodes, casting="unsafe")  # node numbers fit: add_arcs's int32
    return nodes


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
    network: "min_cost_flow.SimpleMinCostFlow",
    tails: ArrayLike,
    heads: ArrayLike,
    capacities: ArrayLike,
    costs: ArrayLike,
) -> NDArray[np.int32]:
    tails_ = np.asarray(tails, dtype=np.int32)
    n = len(tails_)
    arcs: NDArray[np.int32] = network.add_arcs_with_capacity_and_unit_cost(  # ortools: untyped
        tails_,
        np.asarray(heads, dtype=np.int32),
        _int64s(capacities, n),
        _int64s(costs, n),
    ).astype(np.int32)
    return arcs


def _int64s(values: ArrayLike, n: int) -> NDArray[np.int64]:
    """``values`` (one, or n) as n contiguous int64, copied only when they are not already:
    the network copies what it is given, so a second copy of an arc array is memory the
    kernel zeroes for nothing."""
    array = np.asarray(values, dtype=np.int64)
    if array.shape != (n,):
        return np.broadcast_to(array, n).copy()
    return np.ascontiguousarray(array)


def _span(arcs: NDArray[np.int32]) -> tuple[int, int]:
    """The [start, stop) of arc indices the network numbered consecutively."""
    if not len(arcs):
        return 0, 0
    start, stop = int(arcs[0]), int(arcs[-1]) + 1
    if stop - start != len(arcs):
        raise SolverError("the network did not number its arcs consecutively")
    return start, stop


def _decompose(
    instance: Instance, cells: _Cells, flows: _Flows, run_start: IntArray, *, expected: int
) -> Solution:
    """Turn arc flows into pairs.

    1. The cases taken: each run's flow, from its first case on. Positions in ``cells.case``
       come by cell, best first.
    2. The units entering each cell, in the same cell order: direct ones in arc order, then
       those through hubs by hub (one stable sort by cell does it).
       Unit i takes case i; any pairing within a cell is allowed and scores the same, this one
       is deterministic.
    3. A hub's units, in cell order, take the attorneys entering the hub, by attorney.
    """
    position = ranges(run_start, flows.runs)
    taken_cell = np.searchsorted(cells.start, position, side="right") - 1
    direct_unit = np.repeat(np.arange(len(flows.direct)), flows.direct)
    hub_unit = np.repeat(np.arange(len(flows.out_of_hub)), flows.out_of_hub)
    unit_cell = np.concatenate((cells.arc_cell[direct_unit], cells.reach_cell[hub_unit]))
    if len(unit_cell) != len(position):
        raise SolverError("flow is not conserved through the cells")
    order = np.argsort(unit_cell, kind="stable")
    if not np.array_equal(unit_cell[order], taken_cell):
        raise SolverError("flow is not conserved cell by cell")

    via_hub = order >= len(direct_unit)
    attorney = np.empty(len(position), dtype=np.int64)
    affinity = np.empty(len(position), dtype=np.int64)
    arc = direct_unit[order[~via_hub]]
    attorney[~via_hub], affinity[~via_hub] = cells.arc_attorney[arc], cells.affinity[arc]
    if via_hub.any():
        at, entry = _hub_units(cells, flows, hub_unit[order[via_hub] - len(direct_unit)])
        at = np.flatnonzero(via_hub)[at]
        attorney[at], affinity[at] = cells.hub_attorney[entry], cells.hub_affinity[entry]

    case = cells.case[position]
    score = affinity + instance.priority[case]
    if int(score.sum()) != expected:
        raise SolverError(f"pairs score {int(score.sum())}, the flow claims {expected}")
    return solution_of(instance, attorney, case, score)


def _hub_units(cells: _Cells, flows: _Flows, reach_arc: IntArray) -> tuple[IntArray, IntArray]:
    """Pair the units leaving hubs (``reach_arc`` of each, in cell order) with the units
    entering them: (index into ``reach_arc``, hub arc), hub by hub, attorneys in order."""
    hub = cells.reach_hub[reach_arc]
    at = np.argsort(hub, kind="stable")
    entry = np.repeat(np.arange(len(flows.into_hub)), flows.into_hub)  # by (hub, attorney)
    if not np.array_equal(cells.hub[entry], hub[at]):
        raise SolverError("flow is not conserved through the hubs")
    return at, entry
