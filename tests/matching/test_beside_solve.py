"""The work beside the solve (pipeline/beside_solve.py): the attorneys' components and the
greedy baseline, computed in a forked child."""

import os
import signal
import time

import numpy as np
import pytest
from django.core.management import call_command

from matching.models import Match, MatchingRun
from matching.pipeline import beside_solve as beside_module
from matching.pipeline import run as run_module
from matching.pipeline.beside_solve import BesideSolve
from matching.pipeline.load import load_problem
from matching.pipeline.run import matching_run
from matching.solver import attorney_components, greedy_with_hubs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the child needs os.fork"),
]


@pytest.fixture
def problem():
    call_command("seed_scale", attorneys=60, cases=600, seed=11)
    return load_problem()


@pytest.fixture
def always_fork(monkeypatch):
    monkeypatch.setattr(beside_module, "FORK_ABOVE_WORK", 0)


def test_the_child_computes_the_same_greedy_as_the_process(problem, always_fork):
    expected = greedy_with_hubs(problem.instance, problem.hubs)
    assert expected.assigned > 0

    result = BesideSolve(problem.instance, problem.hubs).greedy()

    assert result.in_child
    assert (result.objective, result.assigned) == (expected.objective, expected.assigned)
    assert result.child_peak_rss_mib > 0


def test_the_child_finds_the_attorneys_components_before_its_greedy(problem, always_fork):
    expected = attorney_components(problem.instance, problem.hubs)
    assert expected.count > 1

    beside = BesideSolve(problem.instance, problem.hubs)
    found = beside.components()
    result = beside.greedy()

    assert found.count == expected.count
    assert np.array_equal(found.label, expected.label)
    assert result.in_child and result.objective > 0


def test_many_cells_fork_the_greedy_even_with_few_arcs(problem, monkeypatch):
    """The greedy's heap works cell by cell: a small run's many cells with few arcs each took
    0.15-0.20 s in process, so cells count with arcs towards the fork."""
    instance, hubs = problem.instance, problem.hubs
    arcs = instance.n_arcs + len(hubs.arc_attorney)
    assert instance.n_cells > 1
    monkeypatch.setattr(beside_module, "FORK_ABOVE_WORK", arcs)
    assert BesideSolve(instance, hubs).greedy().in_child
    monkeypatch.setattr(beside_module, "FORK_ABOVE_WORK", arcs + instance.n_cells)
    assert not BesideSolve(instance, hubs).greedy().in_child


def _slow_in_a_child(monkeypatch, name: str) -> None:
    """beside_solve.<name> takes a minute in a child (so it is surely still running when killed),
    and its usual time in this process."""
    parent, real = os.getpid(), getattr(beside_module, name)

    def slow(*args):
        if os.getpid() != parent:
            time.sleep(60)
        return real(*args)

    monkeypatch.setattr(beside_module, name, slow)


@pytest.fixture
def slow_child(monkeypatch):
    _slow_in_a_child(monkeypatch, "greedy_pairs")


def test_a_child_that_dies_is_replaced_by_the_greedy_in_process(problem, always_fork, slow_child):
    beside = BesideSolve(problem.instance, problem.hubs)
    os.kill(beside.pid, signal.SIGKILL)

    result = beside.greedy()

    expected = greedy_with_hubs(problem.instance, problem.hubs)
    assert not result.in_child
    assert (result.objective, result.assigned) == (expected.objective, expected.assigned)


def test_components_a_child_did_not_leave_are_found_in_process(problem, always_fork, monkeypatch):
    _slow_in_a_child(monkeypatch, "attorney_components")
    beside = BesideSolve(problem.instance, problem.hubs)
    os.kill(beside.pid, signal.SIGKILL)

    found = beside.components()

    expected = attorney_components(problem.instance, problem.hubs)
    assert np.array_equal(found.label, expected.label) and found.count == expected.count
    assert not beside.greedy().in_child


def test_small_problems_stay_in_process(problem):
    beside = BesideSolve(problem.instance, problem.hubs)
    assert beside.pid is None
    assert not beside.greedy().in_child


def test_a_run_with_the_child_records_its_greedy_and_leaves_the_connection_usable(
    always_fork,
):
    call_command("seed_scale", attorneys=60, cases=600, seed=11)
    loaded = load_problem()
    expected = greedy_with_hubs(loaded.instance, loaded.hubs)

    run = matching_run(trigger="test")

    # The child inherited the database socket and left without closing it: the run's own
    # queries after the solve (writing proposals, recording the run) went through.
    assert run.status == MatchingRun.Status.FINISHED
    assert run.greedy_objective == expected.objective
    assert run.stats["greedy_in_child"] is True
    assert Match.objects.filter(run=run).count() == run.proposals > 0
    assert MatchingRun.objects.get(pk=run.pk).greedy_objective == expected.objective


def _pids_of_children(monkeypatch) -> list[int | None]:
    """The pid of each BesideSolve's child (None: no child), as they start."""
    started: list[int | None] = []
    real_init = BesideSolve.__init__

    def record(self, *args):
        real_init(self, *args)
        started.append(self.pid)

    monkeypatch.setattr(BesideSolve, "__init__", record)
    return started


def test_a_failed_write_stops_the_child(problem, always_fork, monkeypatch):
    started = _pids_of_children(monkeypatch)

    def broken(*args):
        raise RuntimeError("write broke")

    monkeypatch.setattr(run_module, "_write", broken)
    with pytest.raises(RuntimeError):
        matching_run()

    assert started and started[0] is not None
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(started[0], os.WNOHANG)


def test_the_child_runs_beside_the_solve_and_a_failed_solve_stops_it(
    problem, always_fork, monkeypatch
):
    """The child starts before the solve (run.py: the write that follows wants both cores)."""
    started = _pids_of_children(monkeypatch)
    seen = []

    def broken(problem):
        seen.extend(started)
        raise RuntimeError("solver broke")

    with pytest.raises(RuntimeError):
        matching_run(solver=broken)

    assert seen and seen[0] is not None  # forked before the solver was called
    with pytest.raises(ChildProcessError):  # killed and reaped: no zombie left behind
        os.waitpid(seen[0], os.WNOHANG)
