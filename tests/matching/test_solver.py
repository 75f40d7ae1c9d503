"""The matching solver: documented example, exactness against independent solvers, OR-Library
benchmarks, input validation, determinism and components. No database needed."""

import copy
import gzip
import io
import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from matching.solver import (
    Hubs,
    Instance,
    InstanceError,
    Solution,
    component_labels,
    components,
    greedy_with_hubs,
    instance_to_json,
    load_instance,
    materialise,
    merge_solutions,
    read_instance,
    solution_to_json,
    solve,
    solve_component,
    solve_greedy,
    write_instance,
)
from matching.solver import cells as cells_module
from matching.solver import flow as flow_module
from matching.solver import greedy as greedy_module

# Beasley's instances ship with the tests (gzipped; see data/orlib/README.md), so they always run.
ORLIB = Path(__file__).resolve().parent / "data" / "orlib"
ORLIB_OPTIMA = {100: 305, 200: 475, 300: 626, 400: 804, 500: 991, 600: 1176, 700: 1362, 800: 1552}

EXAMPLE = {
    "attorneys": [{"id": "a1", "capacity": 2}],
    "cells": [{"id": "k1", "cases": [{"id": "c1", "priority": 120}]}],
    "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
    "excluded": [{"attorney": "a1", "case": "c7"}],
}

# Property tests call OR-Tools, whose first call is slow: no per-example deadline.
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(
    capacities: dict[str, int],
    cells: dict[str, dict[str, int]],
    arcs: dict[tuple[str, str], int],
    excluded: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """The JSON format from compact tables: ``cells={"k1": {"c1": 120}}``."""
    return {
        "attorneys": [{"id": a, "capacity": c} for a, c in capacities.items()],
        "cells": [
            {"id": k, "cases": [{"id": c, "priority": p} for c, p in cases.items()]}
            for k, cases in cells.items()
        ],
        "arcs": [{"attorney": a, "cell": k, "affinity": w} for (a, k), w in arcs.items()],
        "excluded": [{"attorney": a, "case": c} for a, c in excluded],
    }


def allowed_pairs(data: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Every allowed (attorney, case) pair with its score, straight from the definition."""
    excluded = {(x["attorney"], x["case"]) for x in data.get("excluded", [])}
    cases = {cell["id"]: cell["cases"] for cell in data["cells"]}
    return {
        (arc["attorney"], case["id"]): arc["affinity"] + case["priority"]
        for arc in data["arcs"]
        for case in cases[arc["cell"]]
        if (arc["attorney"], case["id"]) not in excluded
    }


def exact_objective(data: dict[str, Any]) -> int:
    """Independent optimum: a linear assignment on the full attorney x case graph.

    Rows are capacity slots, columns are cases plus one "unassigned" column per slot (score 0),
    so leaving a slot or a case unused is always possible. A forbidden pair also scores 0:
    allowed pairs score above 0, so the optimum never prefers it to leaving the slot empty.
    """
    slots = [a["id"] for a in data["attorneys"] for _ in range(a["capacity"])]
    cases = [case["id"] for cell in data["cells"] for case in cell["cases"]]
    scores = allowed_pairs(data)
    matrix = np.zeros((len(slots), len(cases) + len(slots)), dtype=np.int64)
    for i, attorney in enumerate(slots):
        for j, case in enumerate(cases):
            matrix[i, j] = scores.get((attorney, case), 0)
    rows, columns = linear_sum_assignment(matrix, maximize=True)
    return int(matrix[rows, columns].sum())


def naive_greedy_objective(data: dict[str, Any]) -> int:
    """Greedy by its definition: sort every allowed pair, take it when both sides are free."""
    remaining = {a["id"]: a["capacity"] for a in data["attorneys"]}
    taken: set[str] = set()
    total = 0
    pairs = sorted(allowed_pairs(data).items(), key=lambda item: (-item[1], item[0]))
    for (attorney, case), score in pairs:
        if remaining[attorney] and case not in taken:
            remaining[attorney] -= 1
            taken.add(case)
            total += score
    return total


def assert_feasible(data: dict[str, Any], solution: Solution) -> None:
    scores = allowed_pairs(data)
    capacity = {a["id"]: a["capacity"] for a in data["attorneys"]}
    load = Counter(a.attorney for a in solution.assignments)
    assert all(load[attorney] <= capacity[attorney] for attorney in load)
    assert len({a.case for a in solution.assignments}) == solution.assigned
    # Excluded pairs and pairs without an arc are both absent from allowed_pairs.
    assert all(scores.get((a.attorney, a.case)) == a.score for a in solution.assignments)
    assert sum(a.score for a in solution.assignments) == solution.objective


def shuffled(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same instance with every list in another order."""
    rng = random.Random(seed)
    data = copy.deepcopy(data)
    for key in ("attorneys", "cells", "arcs", "excluded"):
        rng.shuffle(data[key])
    for cell in data["cells"]:
        rng.shuffle(cell["cases"])
    return data


@st.composite
def instances(draw: st.DrawFn) -> dict[str, Any]:
    """Small instances: <= 6 attorneys of capacity 0-3, <= 5 cells, <= 12 cases, random arcs
    and exclusions. Narrow score ranges make ties common, and ties are where bugs hide."""
    attorneys = [f"a{i}" for i in range(draw(st.integers(0, 6)))]
    cells = [f"k{k}" for k in range(draw(st.integers(0, 5)))]
    n_cases = draw(st.integers(0, 12)) if cells else 0
    case_cell = {f"c{j}": draw(st.sampled_from(cells)) for j in range(n_cases)}
    # Per-pair draws with a drawn density give dense instances too, and shrink towards sparse.
    density = draw(st.integers(1, 4))
    arcs = [(a, k) for a in attorneys for k in cells if draw(st.integers(0, 3)) < density]
    excluded = [(a, c) for a in attorneys for c in case_cell if draw(st.integers(0, 7)) == 7]
    return build(
        capacities={a: draw(st.integers(0, 3)) for a in attorneys},
        cells={
            k: {c: draw(st.integers(-5, 10)) for c, cell in case_cell.items() if cell == k}
            for k in cells
        },
        arcs={arc: draw(st.integers(6, 15)) for arc in arcs},
        excluded=tuple(excluded),
    )


# ---------------------------------------------------------------------------------------------
# Documented example and small cases


def test_the_documented_example_scores_420():
    # The example excludes case c7, which it does not list: allowed only when asked for.
    solution = solve(load_instance(json.dumps(EXAMPLE), ignore_unknown_exclusions=True))

    assert solution_to_json(solution) == {
        "objective": 420,
        "assigned": 1,
        "assignments": [{"attorney": "a1", "case": "c1", "score": 420}],
    }


def test_an_exclusion_naming_an_unknown_case_is_rejected_by_default():
    with pytest.raises(InstanceError, match=re.escape("excluded[0]: unknown case 'c7'")):
        load_instance(EXAMPLE)


def test_it_respects_attorney_capacity():
    data = build({"a1": 2}, {"k1": {"c1": 5, "c2": 4, "c3": 3}}, {("a1", "k1"): 10})

    solution = solve(load_instance(data))

    assert [(a.case, a.score) for a in solution.assignments] == [("c1", 15), ("c2", 14)]


def test_it_assigns_each_case_at_most_once():
    data = build({"a1": 1, "a2": 1}, {"k1": {"c1": 0}}, {("a1", "k1"): 10, ("a2", "k1"): 20})

    solution = solve(load_instance(data))

    assert [(a.attorney, a.case) for a in solution.assignments] == [("a2", "c1")]


def test_it_prefers_total_score_over_the_number_of_matches():
    # Two matches (a1-c2, a2-c1) score 2; one match (a1-c1) scores 100. A solver that forced
    # maximum flow would pick the two.
    data = build(
        {"a1": 1, "a2": 1},
        {"k1": {"c1": 0}, "k2": {"c2": 0}},
        {("a1", "k1"): 100, ("a1", "k2"): 1, ("a2", "k1"): 1},
    )

    solution = solve(load_instance(data))

    assert (solution.objective, solution.assigned) == (100, 1)


def test_it_never_pairs_an_excluded_attorney_with_the_case():
    data = build(
        {"a1": 1, "a2": 1},
        {"k1": {"c1": 100, "c2": 0}},
        {("a1", "k1"): 50, ("a2", "k1"): 1},
        excluded=(("a1", "c1"),),
    )

    solution = solve(load_instance(data))

    assert [(a.attorney, a.case) for a in solution.assignments] == [("a1", "c2"), ("a2", "c1")]


def test_an_exclusion_leaves_the_attorney_the_rest_of_the_cell():
    data = build(
        {"a1": 3},
        {"k1": {"c1": 9, "c2": 8, "c3": 7}},
        {("a1", "k1"): 1},
        excluded=(("a1", "c2"),),
    )

    solution = solve(load_instance(data))

    assert [a.case for a in solution.assignments] == ["c1", "c3"]


def test_an_instance_without_arcs_assigns_nothing():
    data = build({"a1": 3}, {"k1": {"c1": 9}}, {})

    assert solve(load_instance(data)) == Solution(objective=0, assignments=())


def test_a_solvers_pairs_make_the_same_solution_as_its_assignments():
    data = build(
        {"a2": 1, "a1": 2},
        {"k1": {"c3": 9, "c1": 8}, "k2": {"c2": 5}},
        {("a1", "k1"): 1, ("a2", "k1"): 2, ("a1", "k2"): 1},
    )
    solved = solve_component(load_instance(data))

    rebuilt = Solution(solved.objective, solved.assignments)
    pairs = rebuilt.pairs
    triples = [(a.attorney, a.case, a.score) for a in solved.assignments]

    assert solved.objective == 26 and triples == sorted(triples)
    assert ("a1", "c2", 6) in triples
    assert rebuilt == solved and rebuilt.assigned == solved.assigned == 3
    assert pairs.attorney_ids[pairs.attorney].tolist() == [a for a, _, _ in triples]
    assert pairs.case_ids[pairs.case].tolist() == [c for _, c, _ in triples]
    assert pairs.score.tolist() == [score for _, _, score in triples]


def test_greedy_can_fall_short_of_the_optimum():
    # Greedy gives c1 to a1 (100) and leaves a2 idle; the optimum is a1-c2 + a2-c1 = 197.
    data = build(
        {"a1": 1, "a2": 1},
        {"k1": {"c1": 0}, "k2": {"c2": 0}},
        {("a1", "k1"): 100, ("a1", "k2"): 99, ("a2", "k1"): 98},
    )
    instance = load_instance(data)

    assert (solve_greedy(instance).objective, solve(instance).objective) == (100, 197)


def test_greedy_copes_with_a_cell_far_bigger_than_its_attorneys_can_take():
    # 300 attorneys x 200,000 cases would be 60 million pairs if materialised.
    n_attorneys, n_cases = 300, 200_000
    instance = Instance.from_arrays(
        attorney_ids=[f"a{i:03d}" for i in range(n_attorneys)],
        capacity=np.full(n_attorneys, 2),
        cell_ids=["k1"],
        case_ids=[f"c{j:06d}" for j in range(n_cases)],
        case_cell=np.zeros(n_cases, dtype=np.int64),
        priority=np.arange(n_cases) % 1000,
        arc_attorney=np.arange(n_attorneys),
        arc_cell=np.zeros(n_attorneys, dtype=np.int64),
        affinity=np.arange(1, n_attorneys + 1),
    )

    greedy = solve_greedy(instance)

    # One cell: every slot gets filled with the 600 best cases, so greedy is optimal here.
    assert greedy.assigned == 2 * n_attorneys
    assert greedy.objective == solve(instance).objective


# ---------------------------------------------------------------------------------------------
# Properties against independent solvers


@PROPERTY
@given(instances())
def test_its_objective_equals_an_exact_assignment_on_the_full_graph(data):
    assert solve(load_instance(data)).objective == exact_objective(data)


@PROPERTY
@given(instances())
def test_its_assignment_is_feasible(data):
    assert_feasible(data, solve(load_instance(data)))


@PROPERTY
@given(instances())
def test_it_never_scores_below_greedy(data):
    instance = load_instance(data)

    assert solve(instance).objective >= solve_greedy(instance).objective


@PROPERTY
@given(instances())
def test_greedy_takes_pairs_in_sorted_score_order(data):
    greedy = solve_greedy(load_instance(data))

    assert_feasible(data, greedy)
    assert greedy.objective == naive_greedy_objective(data)


# ---------------------------------------------------------------------------------------------
# Hubs: the run pipeline's variant of the same flow


@st.composite
def instances_with_hubs(draw: st.DrawFn, *, exclusions: bool = True) -> tuple[Instance, Hubs]:
    """A small instance and up to 3 hubs over its cells, entered by some of its attorneys at
    affinities that overlap the direct arcs' (so a pair may have both, at different values)."""
    data = draw(instances())
    if not exclusions:
        data["excluded"] = []
    instance = load_instance(data)
    reach = [
        sorted(draw(st.sets(st.integers(0, instance.n_cells - 1))) if instance.n_cells else [])
        for _ in range(draw(st.integers(0, 3)))
    ]
    entries = [
        (a, h, draw(st.integers(6, 15)))
        for h in range(len(reach))
        for a in range(instance.n_attorneys)
        if draw(st.booleans())
    ]
    attorney, hub, affinity = np.array(entries, dtype=np.int64).reshape(-1, 3).T
    return instance, Hubs(
        cell_start=np.cumsum([0, *map(len, reach)]).astype(np.int64),
        cell=np.array([k for cells in reach for k in cells], dtype=np.int64),
        arc_attorney=attorney,
        arc_hub=hub,
        affinity=affinity,
    )


@PROPERTY
@given(instances_with_hubs())
def test_with_hubs_it_finds_the_exact_optimum_of_the_materialised_instance(case):
    """The run's flow (hubs) and solve_instance's (plain arcs) are one builder: same optimum,
    including exclusions that bind through a hub."""
    instance, hubs = case
    plain = instance_to_json(materialise(instance, hubs))

    solution = solve_component(instance, hubs)

    assert solution.objective == exact_objective(plain) == solve(load_instance(plain)).objective
    assert_feasible(plain, solution)


@PROPERTY
@given(instances_with_hubs())
def test_component_labels_join_what_arcs_and_entered_hubs_join(case):
    """Attorneys, cells, then hubs; a hub no attorney enters joins nothing; each component is
    numbered by the rank of its first node (as a union-find over the same edges finds them)."""
    instance, hubs = case
    n_a, first_hub = instance.n_attorneys, instance.n_attorneys + instance.n_cells
    parent = list(range(first_hub + hubs.n_hubs))

    def root(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    hub_of, hub_cell = hubs.cell_arcs()
    entered = set(hubs.arc_hub.tolist())
    edges = [(a, n_a + c) for a, c in zip(instance.arc_attorney, instance.arc_cell, strict=True)]
    edges += [(a, first_hub + h) for a, h in zip(hubs.arc_attorney, hubs.arc_hub, strict=True)]
    edges += [
        (first_hub + h, n_a + c) for h, c in zip(hub_of, hub_cell, strict=True) if h in entered
    ]
    for tail, head in edges:
        parent[root(int(tail))] = root(int(head))
    number: dict[int, int] = {}
    expected = [number.setdefault(root(node), len(number)) for node in range(len(parent))]

    assert component_labels(instance, hubs).tolist() == expected


@PROPERTY
@given(instances_with_hubs(exclusions=False))
def test_greedy_with_hubs_equals_greedy_on_the_materialised_instance(case):
    instance, hubs = case

    assert greedy_with_hubs(instance, hubs) == solve_greedy(materialise(instance, hubs))


@PROPERTY
@given(instances_with_hubs(exclusions=False))
def test_greedy_with_hubs_is_the_same_with_tiny_heads_and_scans(case):
    """Heads of one arc, one affinity bucket and no steps in Python: every run goes through
    its tail and the numpy scan, paths a large world takes and a small one would not."""
    instance, hubs = case
    with pytest.MonkeyPatch.context() as patch:
        for name, value in [("_HEAD_ARCS", 1), ("_HEAD_ARCS_PER_CASE", 0), ("_PYTHON_STEPS", 1)]:
            patch.setattr(greedy_module, name, value)
        patch.setattr(greedy_module, "_BUCKETS", 2)
        tiny = greedy_with_hubs(instance, hubs)

    assert tiny == solve_greedy(materialise(instance, hubs))


def test_an_exclusion_binds_through_a_hub():
    # a1 reaches k1 only through the hub, and is excluded from c1: it must take c2.
    data = build({"a1": 1}, {"k1": {"c1": 50, "c2": 1}}, {})
    data["excluded"] = [{"attorney": "a1", "case": "c1"}]
    instance = load_instance(data)
    hubs = Hubs(
        cell_start=np.array([0, 1]),
        cell=np.array([0]),
        arc_attorney=np.array([0]),
        arc_hub=np.array([0]),
        affinity=np.array([10]),
    )

    solution = solve_component(instance, hubs)

    assert [(a.attorney, a.case, a.score) for a in solution.assignments] == [("a1", "c2", 11)]


class _RecordedNetwork:
    """Stands in for OR-Tools' network and keeps the arcs added to it, in order."""

    def __init__(self) -> None:
        self.tails: list[int] = []
        self.heads: list[int] = []

    def add_arcs_with_capacity_and_unit_cost(self, tails, heads, capacities, costs):
        first = len(self.tails)
        self.tails += list(tails)
        self.heads += list(heads)
        return np.arange(first, len(self.tails))


def test_the_network_runs_from_the_cases_to_the_attorneys_with_each_bypass_last():
    """The order OR-Tools solves fastest (docs/scaling.md): no arc leaves an attorney, and the
    bypasses come after every other arc, so each attorney lists them after its cells."""
    data = build(
        {"a1": 1, "a2": 2},
        {"k1": {"c1": 5, "c2": 4}, "k2": {"c3": 3}},
        {("a1", "k1"): 10, ("a2", "k1"): 9, ("a2", "k2"): 8},
    )
    instance = load_instance(data)
    hubs = Hubs(
        cell_start=np.array([0, 2]),
        cell=np.array([0, 1]),
        arc_attorney=np.array([0]),
        arc_hub=np.array([0]),
        affinity=np.array([7]),
    )
    network = _RecordedNetwork()

    flow_module._add_network_arcs(
        network, instance, cells_module._cells_without_exclusions(instance, hubs, by_cell=False)
    )

    attorney_nodes = {flow_module._FIRST_ATTORNEY_NODE + a for a in range(instance.n_attorneys)}
    assert attorney_nodes.isdisjoint(network.tails)
    n = instance.n_attorneys
    bypasses = list(zip(network.tails[-n:], network.heads[-n:], strict=True))
    assert bypasses == [(flow_module._TERMINAL, node) for node in sorted(attorney_nodes)]


# ---------------------------------------------------------------------------------------------
# OR-Library benchmarks (Beasley): known optimal assignments


def orlib_instance(n: int) -> Instance:
    """Row i is attorney i (capacity 1); column j is case j alone in its cell, priority 0;
    arc (i, j) has affinity 101 - cost[i][j], so the best score is 101 n - optimum."""
    with gzip.open(ORLIB / f"assign{n}.txt.gz", "rt") as data:
        numbers = np.array(data.read().split(), dtype=np.int64)
    assert numbers[0] == n
    rows, columns = np.divmod(np.arange(n * n), n)
    return Instance.from_arrays(
        attorney_ids=[f"a{i:03d}" for i in range(n)],
        capacity=np.ones(n, dtype=np.int64),
        cell_ids=[f"k{j:03d}" for j in range(n)],
        case_ids=[f"c{j:03d}" for j in range(n)],
        case_cell=np.arange(n),
        priority=np.zeros(n, dtype=np.int64),
        arc_attorney=rows,
        arc_cell=columns,
        affinity=101 - numbers[1 : 1 + n * n],
    )


@pytest.mark.parametrize("n", sorted(ORLIB_OPTIMA))
def test_it_finds_the_known_optimum_of_orlib_assignment(n):
    solution = solve(orlib_instance(n))

    assert solution.objective == 101 * n - ORLIB_OPTIMA[n]
    assert solution.assigned == n


# ---------------------------------------------------------------------------------------------
# Validation

VALID = build(
    {"a1": 2, "a2": 1},
    {"k1": {"c1": 120, "c2": 0}, "k2": {"c3": 5}},
    {("a1", "k1"): 300, ("a2", "k1"): 50, ("a2", "k2"): 10},
    excluded=(("a2", "c1"),),
)


def mutated(change) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    change(data)
    return data


def _set(path: tuple, value: Any):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def test_the_valid_instance_used_below_loads():
    assert load_instance(VALID).n_cases == 3


INVALID = [
    ("{not json", "malformed JSON"),
    ("[]", "instance: expected an object, got list"),
    (mutated(lambda d: d.pop("arcs")), "instance: missing key 'arcs'"),
    (mutated(lambda d: d.update(exclude=[])), "instance: unexpected key 'exclude'"),
    (mutated(_set(("attorneys",), {})), "attorneys: expected a list, got dict"),
    (mutated(_set(("cells", 0, "cases"), None)), "cells[0].cases: expected a list"),
    (mutated(_set(("arcs", 1), ["a2", "k1"])), "arcs[1]: expected an object, got list"),
    (mutated(lambda d: d["attorneys"][1].pop("capacity")), "attorneys[1]: missing key"),
    (mutated(_set(("arcs", 0, "weight"), 1)), "arcs[0]: unexpected key 'weight'"),
    (mutated(_set(("attorneys", 0, "id"), 7)), "attorneys[0].id: id must be a non-empty"),
    (mutated(_set(("cells", 1, "id"), "")), "cells[1].id: id must be a non-empty"),
    (mutated(_set(("arcs", 2, "cell"), None)), "arcs[2].cell: id must be a non-empty"),
    (mutated(_set(("attorneys", 1, "id"), "a1")), "attorneys[1]: duplicate attorney id 'a1'"),
    (mutated(_set(("cells", 1, "id"), "k1")), "cells[1]: duplicate cell id 'k1'"),
    (
        mutated(_set(("cells", 1, "cases", 0, "id"), "c1")),
        "cells[1].cases[0]: duplicate case id 'c1'",
    ),
    (
        mutated(_set(("attorneys", 0, "capacity"), 2.0)),
        "attorneys[0].capacity: expected an integer, got float",
    ),
    (
        mutated(_set(("attorneys", 0, "capacity"), True)),
        "attorneys[0].capacity: expected an integer, got bool",
    ),
    (
        mutated(_set(("attorneys", 0, "capacity"), "2")),
        "attorneys[0].capacity: expected an integer, got str",
    ),
    (mutated(_set(("attorneys", 1, "capacity"), -1)), "attorneys[1]: capacity -1 is negative"),
    (
        mutated(_set(("cells", 0, "cases", 1, "priority"), 0.5)),
        "cells[0].cases[1].priority: expected an integer, got float",
    ),
    (mutated(_set(("arcs", 2, "affinity"), None)), "arcs[2].affinity: expected an integer"),
    (mutated(_set(("arcs", 2, "affinity"), 2**40)), "arcs[2]: affinity 1099511627776 is out"),
    (mutated(_set(("arcs", 1, "attorney"), "a9")), "arcs[1]: unknown attorney 'a9'"),
    (mutated(_set(("arcs", 2, "cell"), "k9")), "arcs[2]: unknown cell 'k9'"),
    (mutated(_set(("excluded", 0, "attorney"), "a9")), "excluded[0]: unknown attorney 'a9'"),
    (mutated(_set(("excluded", 0, "case"), "c7")), "excluded[0]: unknown case 'c7'"),
    (
        mutated(_set(("arcs", 2), VALID["arcs"][0])),
        "arcs[2]: duplicate arc from attorney 'a1' to cell 'k1'",
    ),
    (
        mutated(_set(("arcs", 1, "affinity"), 0)),
        "arcs[1]: attorney 'a2' and case 'c2' score 0 (affinity 0 + priority 0)",
    ),
]


@pytest.mark.parametrize(("source", "message"), INVALID, ids=[m for _, m in INVALID])
def test_it_rejects_invalid_input_naming_the_problem(source, message):
    with pytest.raises(InstanceError, match="^" + re.escape(message)):
        load_instance(source)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capacity": [1.5]}, "capacity: expected integers, got float64"),
        ({"arc_cell": [3]}, "arcs[0]: cell index 3 is out of range"),
        ({"attorney_ids": ["a1", "a1"], "capacity": [1, 1]}, "duplicate attorney id 'a1'"),
        ({"case_ids": [3]}, "case ids must be non-empty strings, got 3"),
        ({"priority": [1, 2]}, "priority: expected shape (1,), got (2,)"),
    ],
)
def test_from_arrays_rejects_invalid_arrays(change, message):
    arrays = {
        "attorney_ids": ["a1"],
        "capacity": [1],
        "cell_ids": ["k1"],
        "case_ids": ["c1"],
        "case_cell": [0],
        "priority": [5],
        "arc_attorney": [0],
        "arc_cell": [0],
        "affinity": [5],
    } | change

    with pytest.raises(InstanceError, match="^" + re.escape(message)):
        Instance.from_arrays(**arrays)


# ---------------------------------------------------------------------------------------------
# Output, determinism and components


def test_solution_json_lists_assignments_by_attorney_then_case():
    data = build(
        {"b": 2, "a": 1},
        {"k1": {"z": 3, "y": 3}, "k2": {"x": 1}},
        {("b", "k1"): 5, ("a", "k2"): 5},
    )

    listed = solution_to_json(solve(load_instance(data)))["assignments"]

    assert [(a["attorney"], a["case"]) for a in listed] == [("a", "x"), ("b", "y"), ("b", "z")]


@PROPERTY
@given(instances())
def test_an_instance_survives_a_json_round_trip(data):
    instance = load_instance(data)

    again = load_instance(json.dumps(instance_to_json(instance)))

    assert instance_to_json(again) == instance_to_json(instance)


@pytest.mark.parametrize("solver", [solve, solve_greedy], ids=["optimal", "greedy"])
@PROPERTY
@given(data=instances(), seed=st.integers(0, 2**32 - 1))
def test_it_gives_the_same_assignment_for_repeated_and_shuffled_input(solver, data, seed):
    first = solver(load_instance(data))

    assert solver(load_instance(data)) == first
    assert solver(load_instance(shuffled(data, seed))) == first


def test_it_gives_the_same_assignment_for_shuffled_input_with_many_ties():
    rng = random.Random(7)
    attorneys = {f"a{i}": rng.randint(0, 4) for i in range(40)}
    cells = {f"k{k}": {f"c{k}-{j}": rng.choice([0, 10]) for j in range(8)} for k in range(15)}
    arcs = {(a, k): rng.choice([1, 2]) for a in attorneys for k in cells if rng.random() < 0.3}
    excluded = tuple(
        (a, c) for a in attorneys for cases in cells.values() for c in cases if rng.random() < 0.02
    )
    data = build(attorneys, cells, arcs, excluded)

    first = solve(load_instance(data))

    assert all(solve(load_instance(shuffled(data, seed))) == first for seed in range(5))


@pytest.mark.parametrize("batch_arcs", [0, 4], ids=["components", "batches"])
@PROPERTY
@given(data=instances())
def test_solving_components_separately_matches_solving_the_whole(batch_arcs, data):
    instance = load_instance(data)
    parts = components(instance, batch_arcs=batch_arcs)

    merged = merge_solutions(solve_component(part) for part in parts)

    assert merged.objective == solve_component(instance).objective
    assert_feasible(data, merged)


@pytest.mark.parametrize("batch_arcs", [0, 4], ids=["components", "batches"])
@PROPERTY
@given(data=instances())
def test_components_split_the_instance_without_losing_or_sharing_anything(batch_arcs, data):
    instance = load_instance(data)
    whole = instance_to_json(instance)
    parts = [instance_to_json(part) for part in components(instance, batch_arcs=batch_arcs)]
    arcs = {(arc["attorney"], arc["cell"]) for arc in whole["arcs"]}
    cell_of = {case["id"]: cell["id"] for cell in whole["cells"] for case in cell["cases"]}

    def of_parts(key):
        return sorted(json.dumps(item, sort_keys=True) for part in parts for item in part[key])

    def of_whole(key, keep):
        return sorted(json.dumps(item, sort_keys=True) for item in whole[key] if keep(item))

    # Attorneys and cells without an arc may be left out, and exclusions across components
    # (which cannot bind); nothing else, and nothing twice.
    assert of_parts("arcs") == of_whole("arcs", lambda arc: True)
    assert of_parts("attorneys") == of_whole("attorneys", lambda a: a["id"] in dict(arcs))
    assert of_parts("cells") == of_whole("cells", lambda k: k["id"] in {k for _, k in arcs})
    binding = of_whole("excluded", lambda x: (x["attorney"], cell_of[x["case"]]) in arcs)
    kept = of_parts("excluded")
    assert set(binding) <= set(kept) <= set(of_whole("excluded", lambda x: True))
    assert len(kept) == len(set(kept))


@PROPERTY
@given(instances())
def test_each_component_is_connected(data):
    assert all(len(components(part)) == 1 for part in components(load_instance(data)))


# ---------------------------------------------------------------------------------------------
# Files read and written a piece at a time (export_instance, solve_instance)


class Trickle(io.BytesIO):
    """A file that hands out at most 3 bytes per sized read: every token boundary falls between
    two reads somewhere."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(size if size is None or size < 0 else min(size, 3))


def compact(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


@PROPERTY
@given(instances_with_hubs())
def test_write_instance_writes_the_materialised_instance_as_compact_json(case):
    instance, hubs = case
    with_hubs, plain = io.BytesIO(), io.BytesIO()

    write_instance(instance, with_hubs, hubs=hubs)
    write_instance(instance, plain)

    materialised = instance_to_json(materialise(instance, hubs))
    assert instance_to_json(load_instance(with_hubs.getvalue())) == materialised
    assert instance_to_json(read_instance(Trickle(with_hubs.getvalue()))) == materialised
    assert instance_to_json(load_instance(plain.getvalue())) == instance_to_json(instance)


def test_write_instance_writes_the_documented_example_exactly():
    out = io.BytesIO()

    write_instance(load_instance({**EXAMPLE, "excluded": []}), out)

    assert out.getvalue().decode() == compact({**EXAMPLE, "excluded": []})


@PROPERTY
@given(
    data=instances(),
    layout=st.sampled_from([{}, {"indent": 1}, {"separators": (",", ":")}]),
    seed=st.integers(0, 2**32 - 1),
)
def test_read_instance_reads_what_load_instance_reads(data, layout, seed):
    """Compact arcs are read a run at a time, the rest one element at a time: the same."""
    text = json.dumps(shuffled(data, seed), **layout).encode()

    for handle in (Trickle(text), io.BytesIO(text)):
        streamed = read_instance(handle)
        assert instance_to_json(streamed) == instance_to_json(load_instance(text))


COMPACT_ARCS = build(
    {"a1": 1, "a2": 1, "a3": 1},
    {"k1": {"c1": 120}},
    {("a1", "k1"): 10, ("a2", "k1"): 10, ("a3", "k1"): 10},
)


@pytest.mark.parametrize(
    ("arc", "message"),
    [
        ({"attorney": "a9", "cell": "k1", "affinity": 1}, r"arcs\[1\]: unknown attorney 'a9'"),
        ({"attorney": "", "cell": "k1", "affinity": 1}, r"arcs\[1\].attorney: id must be"),
        ({"attorney": "a2", "cell": "k1", "affinity": 2**63}, "does not fit in 64 bits"),
        ({"attorney": "a2", "cell": "k1", "affinity": 1.5}, r"arcs\[1\].affinity: expected an"),
        ({"attorney": "a2", "cell": "k1", "affinity": 1}, r"arcs\[2\]: duplicate arc"),
    ],
)
def test_read_instance_names_the_arc_at_fault_in_a_run_of_compact_arcs(arc, message):
    data = {**COMPACT_ARCS, "arcs": [COMPACT_ARCS["arcs"][0], arc, *COMPACT_ARCS["arcs"][1:]]}
    text = compact(data).encode()

    for read in (lambda: load_instance(text), lambda: read_instance(io.BytesIO(text))):
        with pytest.raises(InstanceError, match=message):
            read()


COMPACT_CELLS = build(
    {"a1": 1},
    {"k1": {"c1": 120, "c2": 5}, "k2": {}, "k3": {"c3": 7}},
    {("a1", "k1"): 10},
)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ({"id": "k9", "cases": [{"id": "c1", "priority": 1}]}, r"cells\[1\]\.cases\[0\]: dup"),
        ({"id": "k1", "cases": []}, r"cells\[1\]: duplicate cell id 'k1'"),
        ({"id": "k9", "cases": [{"id": "", "priority": 1}]}, r"cells\[1\]\.cases\[0\]\.id"),
        ({"id": "", "cases": []}, r"cells\[1\]\.id: id must be"),
        ({"id": "k9", "cases": [{"id": "c9", "priority": 2**63}]}, "does not fit in 64 bits"),
        ({"id": "k9", "cases": [{"id": "c9", "priority": 1.5}]}, r"\.priority: expected an"),
        ({"id": "k9", "cases": [{"id": "c9", "priority": 1, "x": 1}]}, "unexpected key 'x'"),
    ],
)
def test_read_instance_names_the_case_at_fault_in_a_run_of_compact_cells(cell, message):
    cells = COMPACT_CELLS["cells"]
    text = compact({**COMPACT_CELLS, "cells": [cells[0], cell, *cells[1:]]}).encode()

    for read in (lambda: load_instance(text), lambda: read_instance(io.BytesIO(text))):
        with pytest.raises(InstanceError, match=message):
            read()


@pytest.mark.parametrize("other", ["c3", "é", "\\"])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_read_instance_reads_compact_cells_with_any_ids_as_json_does(other, ensure_ascii):
    data = build({"a1": 1}, {"k}1": {"c]1": 3, other: 4}, "k,2": {"c{2": -1}}, {("a1", "k,2"): 5})
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=ensure_ascii).encode()

    for handle in (Trickle(text), io.BytesIO(text)):
        assert instance_to_json(read_instance(handle)) == instance_to_json(load_instance(data))


def test_read_instance_reads_a_file_in_another_key_order_whole():
    text = json.dumps({"arcs": VALID["arcs"], **VALID}).encode()

    assert instance_to_json(read_instance(Trickle(text))) == instance_to_json(load_instance(VALID))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"attorneys": [', "malformed JSON"),
        ('{"attorneys": [], "cells": [] "arcs": []}', "malformed JSON"),
        ('{"attorneys": [], "cells": [], "arcs": []} {}', "malformed JSON"),
        ('{"attorneys": [{"id": "a1" "capacity": 1}], "cells": [], "arcs": []}', "malformed"),
        ("", "malformed JSON"),
        ('{"attorneys": [], "cells": [], "arcs": [], "arcs": []}', "duplicate key 'arcs'"),
        ('{"attorneys": [], "cells": []}', "missing key 'arcs'"),
        ('{"attorneys": 3, "cells": [], "arcs": []}', "attorneys: expected a list"),
        ('{"attorneys": [{"id": "a1", "capacity": 1e400}], "cells": [], "arcs": []}', "integer"),
        (
            '{"attorneys": [{"id": "a1", "capacity": 99999999999999999999}], "cells": [], '
            '"arcs": []}',
            "does not fit in 64 bits",
        ),
    ],
)
def test_read_instance_names_the_problem_in_a_bad_file(text, message):
    with pytest.raises(InstanceError, match=message):
        read_instance(Trickle(text.encode()))
