"""The in-memory national world (matching/scale/synthetic.py), the case-sharded exact solve
(matching/scale/sharded.py) and the two benchmark commands that use them (docs/scaling.md)."""

import json
from collections import Counter
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from matching.pipeline.load import load_problem, other_languages_matched
from matching.scale.regional import court_regions, shard_of, solve_by_region
from matching.scale.sharded import coordinate, shard_assign, shard_summary
from matching.scale.synthetic import draw_world, reference_courts, world_problem
from matching.solver import materialise, solve_component


@pytest.fixture(scope="module")
def world():
    return draw_world(attorneys=300, cases=6000, seed=7, other_languages=True)


@pytest.fixture(scope="module")
def exact(world):
    problem = world_problem(world)
    return problem, solve_component(problem.instance, problem.hubs)


def _true_scores(problem) -> dict[tuple[str, str], int]:
    """Every allowed (attorney, case) pair's score, from the materialised instance."""
    instance = materialise(problem.instance, problem.hubs)
    case_cell = instance.case_cell()
    scores = {}
    for a, k, w in zip(instance.arc_attorney, instance.arc_cell, instance.affinity, strict=True):
        for c in np.flatnonzero(case_cell == k).tolist():
            pair = (instance.attorney_ids[a], instance.case_ids[c])
            scores[pair] = int(w + instance.priority[c])
    return scores


@pytest.mark.django_db
def test_the_world_in_memory_is_the_world_seed_scale_writes():
    call_command("seed_scale", attorneys=40, cases=400, seed=11, stdout=StringIO())
    loaded = load_problem()
    drawn = world_problem(
        draw_world(
            attorneys=40, cases=400, seed=11, today=timezone.localdate(),
            other_languages=other_languages_matched(),
        )
    )  # fmt: skip

    assert drawn.instance.n_cells == loaded.instance.n_cells
    assert drawn.instance.n_arcs == loaded.instance.n_arcs
    assert len(drawn.hubs.arc_attorney) == len(loaded.hubs.arc_attorney)
    assert sorted(drawn.instance.priority) == sorted(loaded.instance.priority)
    assert sorted(drawn.instance.capacity) == sorted(loaded.instance.capacity)
    assert (
        solve_component(drawn.instance, drawn.hubs).objective
        == solve_component(loaded.instance, loaded.hubs).objective
    )


def test_a_seed_always_draws_the_same_world(world):
    again = draw_world(attorneys=300, cases=6000, seed=7, other_languages=True)

    assert again.cases.cells == world.cases.cells
    assert np.array_equal(again.cases.cell, world.cases.cell)
    assert np.array_equal(again.cases.priority, world.cases.priority)
    assert again.attorneys.languages == world.attorneys.languages


def test_the_world_is_a_valid_run_problem(world, exact):
    problem, solution = exact
    instance = problem.instance

    assert instance.n_cases == 6000 and instance.n_attorneys == 300
    assert (instance.capacity > 0).all()
    assert instance.n_arcs > 0 and len(problem.hubs.arc_attorney) > 0
    assert 0 < solution.assigned <= int(instance.capacity.sum())
    assert len({a.case for a in solution.assignments}) == solution.assigned


def test_court_regions_cut_every_court_into_regions_holding_cases(world):
    regions = court_regions(reference_courts(), 3)
    shard = shard_of(world.cases, regions)

    assert set(regions) == {c[0] for c in reference_courts()}
    assert set(regions.values()) == {0, 1, 2}
    assert all(np.count_nonzero(shard == r) > 1000 for r in range(3))


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_the_sharded_solve_is_feasible_and_exactly_optimal(world, exact, shards):
    problem, solution = exact
    region = shard_of(world.cases, court_regions(world.courts, shards))
    parts = [world.cases.subset(region == r) for r in range(shards)]
    summaries = [shard_summary(part) for part in parts]

    plan = coordinate(world.attorneys, world.courts, summaries)
    pairs = [
        pair
        for part, summary, fills in zip(parts, summaries, plan.fills, strict=True)
        for pair in shard_assign(part, summary, fills)
    ]

    gap = solution.objective - sum(score for _, _, score in pairs)
    assert gap == 0
    assert plan.solution.objective == solution.objective
    assert plan.units <= len(world.cases)
    assert len(pairs) == solution.assigned
    cases = [f"c{pk:011d}" for _, pk, _ in pairs]
    assert len(set(cases)) == len(cases)
    capacity = dict(zip(problem.instance.attorney_ids, problem.instance.capacity, strict=True))
    assert all(n <= capacity[a] for a, n in Counter(a for a, _, _ in pairs).items())
    scores = _true_scores(problem)
    assert all(
        scores.get((a, case)) == score for (a, _, score), case in zip(pairs, cases, strict=True)
    )


def test_a_shard_refuses_fills_it_cannot_take(world, exact):
    region = shard_of(world.cases, court_regions(world.courts, 2))
    parts = [world.cases.subset(region == r) for r in range(2)]
    summaries = [shard_summary(part) for part in parts]
    plan = coordinate(world.attorneys, world.courts, summaries)

    with pytest.raises(ValueError, match="not made from these cases"):
        shard_assign(parts[1], summaries[0], plan.fills[0])


def test_the_regional_split_is_feasible_and_its_gap_is_measured_against_the_exact_solve(
    world, exact
):
    problem, solution = exact
    result = solve_by_region(world, 2)
    merged = result.solution

    gap = solution.objective - result.objective
    assert 0 <= gap < solution.objective // 20  # not exact, but close on the national world
    assert merged.objective == result.objective
    assert len({a.case for a in merged.assignments}) == merged.assigned
    capacity = dict(zip(problem.instance.attorney_ids, problem.instance.capacity, strict=True))
    used = Counter(a.attorney for a in merged.assignments)
    assert all(n <= capacity[a] for a, n in used.items())
    scores = _true_scores(problem)
    assert all(scores.get((a.attorney, a.case)) == a.score for a in merged.assignments)
    assert all(part.assigned > 0 for part in result.regions)


def test_bench_solver_scale_prints_its_figures_as_json():
    out = StringIO()
    call_command("bench_solver_scale", attorneys=200, cases=3000, seed=2, stdout=out)
    figures = json.loads(out.getvalue().splitlines()[-1])

    assert figures["attorneys"] == 200 and figures["cases"] == 3000
    assert figures["objective"] > 0 and figures["arcs"] > 0
    assert set(figures["seconds"]) == {"draw", "score", "build", "solve"}
    assert figures["process_peak_mib"] > 0


@pytest.mark.usefixtures("celery_eager")
def test_bench_split_solve_finds_no_gap_to_the_single_process_optimum():
    out = StringIO()
    call_command("bench_split_solve", attorneys=200, cases=3000, seed=2, shards=2, stdout=out)
    figures = json.loads(out.getvalue().splitlines()[-1])

    assert figures["gap"] == 0
    assert figures["split_feasible"] is True
    assert figures["regional_gap"] >= 0
    assert figures["split_objective"] == figures["exact_objective"] > 0
    assert sum(figures["shard_cases"]) == 3000
