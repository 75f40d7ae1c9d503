"""Dropping dominated arcs before the flow (matching/solver/dominance.py) never changes the
optimum: on hand-made and random backlog-shaped instances, with hubs and exclusions, against an
independent assignment and against the flow on every arc. No database needed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.solver import Hubs, Instance, instance_to_json, load_instance, materialise
from matching.solver import flow as flow_module
from matching.solver.cells import _cells_without_exclusions, _has_arc
from matching.solver.dominance import _reach, without_dominated_arcs
from tests.matching.test_solver import (
    PROPERTY,
    assert_feasible,
    build,
    exact_objective,
    instances_with_hubs,
)


def _solve_on_every_arc(monkeypatch, instance: Instance, hubs: Hubs | None = None):
    """The flow without the rule, for comparison."""
    with monkeypatch.context() as patch:
        patch.setattr(flow_module, "without_dominated_arcs", lambda _instance, cells: cells)
        return flow_module.solve_component(instance, hubs)


def test_an_attorney_sure_of_better_cases_loses_its_worse_arc():
    # a2 can take at most one case of k1, so a1 is sure of c2 (50 + 90 = 140) at least: its arc
    # to k2 (50 + 10 = 60 at best) can never be worth using. a2's arc stays (10 + 100 >= 100).
    instance = load_instance(
        build(
            {"a1": 1, "a2": 1},
            {"k1": {"c1": 100, "c2": 90, "c3": 80}, "k2": {"c4": 10}},
            {("a1", "k1"): 50, ("a1", "k2"): 50, ("a2", "k1"): 10},
        )
    )
    cells = _cells_without_exclusions(instance)

    kept = without_dominated_arcs(instance, cells)

    assert len(cells.arc_attorney) == 3
    assert sorted(zip(kept.arc_attorney.tolist(), kept.arc_cell.tolist(), strict=True)) == [
        (0, 0),
        (1, 0),
    ]
    # k2 lost its only arc, so its case is no longer kept either.
    assert np.diff(kept.start).tolist() == [2, 0]


def test_a_tie_with_the_guaranteed_option_keeps_the_arc():
    # a1 is sure of c2 (50 + 90 = 140); its arc to k2 can also score exactly 140: kept.
    instance = load_instance(
        build(
            {"a1": 1, "a2": 1},
            {"k1": {"c1": 100, "c2": 90}, "k2": {"c4": 40}},
            {("a1", "k1"): 50, ("a1", "k2"): 100, ("a2", "k1"): 10},
        )
    )

    kept = without_dominated_arcs(instance, _cells_without_exclusions(instance))

    assert len(kept.arc_attorney) == 3


def test_an_attorney_without_enough_sure_options_keeps_every_arc():
    # Capacity 3, but only 2 cases a1 can be sure of: no threshold, nothing dropped.
    instance = load_instance(
        build({"a1": 3}, {"k1": {"c1": 100, "c2": 90}, "k2": {"c3": 1}},
              {("a1", "k1"): 50, ("a1", "k2"): 1})
    )  # fmt: skip

    kept = without_dominated_arcs(instance, _cells_without_exclusions(instance))

    assert len(kept.arc_attorney) == 2


def backlog(seed: int, *, hubs: bool) -> tuple[Instance, Hubs]:
    """Cases far outnumber capacity, as on the real backlog: where the rule drops arcs."""
    rng = np.random.default_rng(seed)
    n_attorneys, n_cells = int(rng.integers(3, 14)), int(rng.integers(2, 9))
    sizes = rng.integers(0, 12, n_cells)
    case_cell = np.repeat(np.arange(n_cells), sizes)
    pairs = rng.random((n_attorneys, n_cells)) < 0.6
    attorney, cell = np.nonzero(pairs)
    n_cases = len(case_cell)
    excluded = [
        (int(a), int(c)) for a in range(n_attorneys) for c in range(n_cases) if rng.random() < 0.03
    ]
    instance = Instance.from_arrays(
        attorney_ids=[f"a{i:02d}" for i in range(n_attorneys)],
        capacity=rng.integers(0, 4, n_attorneys),
        cell_ids=[f"k{k:02d}" for k in range(n_cells)],
        case_ids=[f"c{j:03d}" for j in range(n_cases)],
        case_cell=case_cell,
        priority=rng.integers(0, 60, n_cases),
        arc_attorney=attorney,
        arc_cell=cell,
        affinity=rng.integers(1, 80, len(attorney)),
        excluded_attorney=np.array([a for a, _ in excluded], dtype=np.int64),
        excluded_case=np.array([c for _, c in excluded], dtype=np.int64),
    )
    if not hubs:
        return instance, Hubs.none()
    reach = [sorted(rng.choice(n_cells, int(rng.integers(1, n_cells + 1)), replace=False))
             for _ in range(int(rng.integers(1, 3)))]  # fmt: skip
    entries = [(a, h) for h in range(len(reach)) for a in range(n_attorneys) if rng.random() < 0.4]
    arc_attorney, arc_hub = np.array(entries, dtype=np.int64).reshape(-1, 2).T
    return instance, Hubs(
        cell_start=np.cumsum([0, *map(len, reach)]).astype(np.int64),
        cell=np.array([k for cells in reach for k in cells], dtype=np.int64),
        arc_attorney=arc_attorney,
        arc_hub=arc_hub,
        affinity=rng.integers(1, 80, len(arc_attorney)),
    )


@pytest.mark.parametrize("with_hubs", [False, True])
def test_on_random_backlogs_it_drops_arcs_and_keeps_the_exact_optimum(monkeypatch, with_hubs):
    dropped = 0
    for seed in range(60):
        instance, hubs = backlog(seed, hubs=with_hubs)
        cells = _cells_without_exclusions(instance, hubs)
        kept = without_dominated_arcs(instance, cells)
        dropped += len(cells.arc_attorney) - len(kept.arc_attorney)
        dropped += len(cells.hub_attorney) - len(kept.hub_attorney)
        plain = instance_to_json(materialise(instance, hubs))

        solution = flow_module.solve_component(instance, hubs)

        assert solution.objective == exact_objective(plain), seed
        assert solution.objective == _solve_on_every_arc(monkeypatch, instance, hubs).objective
        assert_feasible(plain, solution)
    assert dropped > 0  # the worlds are shaped so that the rule has work to do


@PROPERTY
@given(instances_with_hubs(), st.integers(1, 4))
def test_any_number_of_rounds_keeps_the_exact_optimum(case, rounds):
    instance, hubs = case
    plain = instance_to_json(materialise(instance, hubs))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            flow_module,
            "without_dominated_arcs",
            lambda instance, cells: without_dominated_arcs(instance, cells, rounds=rounds),
        )
        solution = flow_module.solve_component(instance, hubs)

    assert solution.objective == exact_objective(plain)
    assert_feasible(plain, solution)


@PROPERTY
@given(instances_with_hubs())
def test_each_round_keeps_the_reach_of_what_it_kept(case):
    # The cells carry their reach from trim to trim (dominance reads it instead of summing it
    # again): it is always the capacity of every arc into each cell, and the arc capacities,
    # in their narrow type, are min(attorney capacity, cell size) as before.
    instance, hubs = case
    cells = _cells_without_exclusions(instance, hubs, by_cell=False)
    for round_ in range(3):
        assert cells.reach.tolist() == _reach(cells).tolist(), round_
        cells = without_dominated_arcs(instance, cells, rounds=1)
    plain = _cells_without_exclusions(instance, by_cell=False)
    if len(plain.arc_attorney) and not len(instance.excluded_attorney):
        sizes = np.diff(instance.cell_start)
        expected = np.minimum(instance.capacity[instance.arc_attorney], sizes[instance.arc_cell])
        kept = expected > 0
        assert plain.arc_capacity.tolist() == expected[kept].tolist()
        assert plain.arc_capacity.dtype == np.int8


@PROPERTY
@given(instances_with_hubs())
def test_an_arc_is_found_by_attorney_and_cell_as_by_its_key(case):
    instance, _ = case
    rng = np.random.default_rng(instance.n_arcs)
    attorney = rng.integers(0, max(instance.n_attorneys, 1), 40)
    cell = rng.integers(0, max(instance.n_cells, 1), 40)
    attorney = np.concatenate((attorney, instance.arc_attorney))
    cell = np.concatenate((cell, instance.arc_cell))
    keys = set(zip(instance.arc_attorney.tolist(), instance.arc_cell.tolist(), strict=True))

    found = _has_arc(instance, attorney, cell)

    pairs = zip(attorney.tolist(), cell.tolist(), strict=True)
    assert found.tolist() == [pair in keys for pair in pairs]
