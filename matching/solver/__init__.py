"""Optimal attorney-case matching as a min-cost flow, with a greedy baseline.

Pure numpy + SciPy + OR-Tools, no Django: the same code runs in a Celery worker, a script or a
test without a database.

The problem. Attorneys have a capacity; cases sit in cells (cases a matching arc treats alike);
an arc joins an attorney to a cell with an integer affinity; some (attorney, case) pairs are
excluded (conflicts of interest). A pair (a, c) is allowed when an arc joins a to c's cell and
the pair is not excluded; it scores affinity + priority(c). Each case goes to at most one
attorney, each attorney takes at most its capacity, and the total score is maximised. Matching
is optional: leaving a case unassigned scores 0.

Why a cell-level graph is exact: inside a cell with no exclusions every attorney with an arc may
take any of its cases, and a pair's score splits into an attorney-cell part (affinity) and a case
part (priority). So a flow of f units from attorney a into cell k and of g units out to the
cell's cases can be paired up in any order with the same total, and every assignment is such a
flow. Exclusions break the "any case" premise, so an excluded case becomes a cell of its own
whose arcs omit the excluded attorneys.

Hubs (``hubs``) are a variant of the same flow: a hub node carries many attorney-cell arcs of
equal affinity once (attorney -> hub -> cell). The run pipeline solves its remote-work hubs with
the same :func:`solve_component`, so the run and ``solve_instance`` share one flow builder.

The modules, in dependency order:

- ``instance``: :class:`Instance` (canonical numpy arrays), its checks, the errors; ids
  written from numbers when read (:class:`NumberedIds`, the run's case ids).
- ``solution``: :class:`Assignment`, :class:`Solution` (its :class:`Pairs`),
  :func:`merge_solutions`.
- ``arrays``: vectorised helpers (:func:`ranges`).
- ``hubs``: :class:`Hubs`, :func:`materialise` (the same instance without hubs),
  :func:`component_labels` of the attorney-cell-hub graph.
- ``cells``: cells without exclusions, the shared input of both solvers.
- ``dominance``: the arcs no optimal solution uses (an attorney sure of better cases
  elsewhere), dropped before the flow is built.
- ``io``: the JSON/dict format (:func:`load_instance`, :func:`instance_to_json`,
  :func:`solution_to_json`), and files of it read a piece at a time (:func:`read_instance`);
  its optional hubs sections kept apart (:func:`load_instance_with_hubs`,
  :func:`read_instance_with_hubs`).
- ``writer``: files of it written a piece at a time, with hubs or hubs made plain arcs
  (:func:`write_instance`).
- ``components``: :func:`components`, the connected parts of an instance;
  :func:`component_batches`, a solution split by component (:func:`attorney_components`).
- ``flow``: the optimal solver (:func:`solve`, :func:`solve_component`, with or without hubs).
- ``greedy``: the greedy baseline (:func:`solve_greedy`, :func:`greedy_with_hubs` and its
  pairs :func:`greedy_pairs`, :func:`greedy_merge`).

Callers import from ``matching.solver``; the names below are its public surface.
"""

from matching.solver.arrays import ranges
from matching.solver.components import (
    AttorneyComponents,
    attorney_components,
    component_batches,
    components,
)
from matching.solver.flow import (
    SOLVE_BATCH_ARCS,
    add_arcs,
    import_solver_libraries,
    solve,
    solve_component,
)
from matching.solver.greedy import (
    GreedyKey,
    greedy_merge,
    greedy_pairs,
    greedy_with_hubs,
    solve_greedy,
)
from matching.solver.hubs import Hubs, component_labels, hub_ids, materialise
from matching.solver.instance import (
    MAX_VALUE,
    IdArray,
    Ids,
    Instance,
    InstanceError,
    IntArray,
    NumberedIds,
    SolverError,
)
from matching.solver.io import (
    instance_to_json,
    load_instance,
    load_instance_with_hubs,
    read_instance,
    read_instance_with_hubs,
    solution_to_json,
)
from matching.solver.solution import Assignment, Pairs, Solution, merge_solutions, solution_of
from matching.solver.writer import write_instance

__all__ = [
    "MAX_VALUE",
    "SOLVE_BATCH_ARCS",
    "Assignment",
    "AttorneyComponents",
    "GreedyKey",
    "Hubs",
    "IdArray",
    "Ids",
    "Instance",
    "InstanceError",
    "IntArray",
    "NumberedIds",
    "Pairs",
    "Solution",
    "SolverError",
    "add_arcs",
    "attorney_components",
    "component_batches",
    "component_labels",
    "components",
    "greedy_merge",
    "greedy_pairs",
    "greedy_with_hubs",
    "hub_ids",
    "import_solver_libraries",
    "instance_to_json",
    "load_instance",
    "load_instance_with_hubs",
    "materialise",
    "merge_solutions",
    "ranges",
    "read_instance",
    "read_instance_with_hubs",
    "solution_of",
    "solution_to_json",
    "solve",
    "solve_component",
    "solve_greedy",
    "write_instance",
]
