"""A run split by component across Celery workers equals the run solved in one process."""

import uuid
from dataclasses import dataclass
from unittest import mock

import pytest
from django.core.management import call_command

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from matching.pipeline import fanout
from matching.pipeline import run as run_module
from matching.pipeline.load import load_problem, pk_of
from matching.pipeline.run import matching_run
from matching.solver import components, materialise, merge_solutions, solve_component
from matching.tasks import runs as tasks
from tests.factories import AttorneyFactory, CaseRequestFactory
from volunteers.models import AttorneyProfile

# Four language groups that share nobody: four components of 12 cases each. Within a group the
# attorneys' affinities differ (proficiency) and so do the cases' priorities, and capacity (9)
# is short of the cases (12), so the optimum is unique: every attorney full, the 9 most urgent
# cases taken. seed_scale worlds are one giant component plus crumbs of at most 4 cases
# (English and Spanish reach nearly everything), so they cannot show a split.
LANGUAGES = ("spa", "fra", "hat", "por")
MIN_CASES = 10


@pytest.fixture
def language_world(db):
    for g, language in enumerate(LANGUAGES):
        for level, capacity in ((2, 2), (3, 3), (4, 4)):
            AttorneyFactory(capacity=capacity, languages={language: level})
        for i in range(12):
            CaseRequestFactory(language_id=language, priority=100 + 50 * i + g)


@dataclass(frozen=True)
class Outcome:
    status: str
    objective: int
    proposals: frozenset[tuple[int, int, int]]  # (case, attorney, score)


def _outcome(run: MatchingRun) -> Outcome:
    proposals = Match.objects.filter(run=run).values_list("case_id", "attorney_id", "score")
    return Outcome(status=run.status, objective=run.objective, proposals=frozenset(proposals))


def _reset_world(free: dict[int, int]) -> None:
    """Undo a run: its proposals gone, cases open, capacity as before."""
    Match.objects.all().delete()
    CaseRequest.objects.update(status=CaseRequest.Status.OPEN)
    for pk, active in free.items():
        AttorneyProfile.objects.filter(pk=pk).update(active_cases=active)


def _run_twice(settings, *, fanout_min_cases: int) -> tuple[Outcome, Outcome, dict]:
    """One run in process, then the same data with fan-out configured; returns what each run
    wrote and the fan-out statistics the split recorded."""
    free = dict(AttorneyProfile.objects.values_list("pk", "active_cases"))
    settings.MATCHING_FANOUT_MIN_CASES = 0
    single = _outcome(matching_run(trigger="test"))
    _reset_world(free)
    settings.MATCHING_FANOUT_MIN_CASES = fanout_min_cases
    recorded: dict = {}

    def solve_and_keep_stats(problem):
        solution = run_module.solve_problem(problem)
        recorded.update(problem.stats.get("fanout", {}))
        return solution

    split = _outcome(matching_run(trigger="test", solver=solve_and_keep_stats))
    return single, split, recorded


def _reference(problem) -> set[tuple[int, int, int]]:
    """Every component of the materialised instance solved here, merged."""
    parts = components(materialise(problem.instance, problem.hubs))
    merged = merge_solutions(solve_component(part) for part in parts)
    return {(_pk(a.case), _pk(a.attorney), a.score) for a in merged.assignments}


def _pk(solver_id: str) -> int:
    return pk_of(solver_id)


@pytest.mark.worker
@pytest.mark.usefixtures("language_world")
def test_a_run_split_across_a_worker_writes_the_single_process_proposals(
    celery_worker_queue, settings
):
    settings.MATCHING_FANOUT_QUEUE = celery_worker_queue
    settings.MATCHING_FANOUT_TIMEOUT = 60
    single, split, stats = _run_twice(settings, fanout_min_cases=MIN_CASES)

    assert split.status == single.status == MatchingRun.Status.FINISHED
    assert len(split.proposals) == 4 * 9
    assert split.proposals == single.proposals
    assert split.objective == single.objective
    assert stats == {**stats, "components": 4, "on_workers": 3, "in_process": 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("language_world")
def test_with_no_worker_the_run_solves_everything_itself_after_the_timeout(settings):
    settings.MATCHING_FANOUT_QUEUE = "nobody-consumes-this-queue"
    settings.MATCHING_FANOUT_TIMEOUT = 2
    single, split, stats = _run_twice(settings, fanout_min_cases=MIN_CASES)

    assert split.status == MatchingRun.Status.FINISHED
    assert split.proposals == single.proposals != frozenset()
    assert split.objective == single.objective
    assert stats == {**stats, "components": 4, "on_workers": 0, "in_process": 4}
    assert 2 <= stats["seconds"] < 30  # it waited for the timeout, not forever


@pytest.mark.django_db
@pytest.mark.usefixtures("language_world")
def test_a_broker_that_refuses_the_group_does_not_fail_the_run(settings):
    settings.MATCHING_FANOUT_TIMEOUT = 60
    with mock.patch("celery.canvas.group.apply_async", side_effect=OSError("broker down")):
        single, split, stats = _run_twice(settings, fanout_min_cases=MIN_CASES)
    assert split.status == MatchingRun.Status.FINISHED
    assert split.proposals == single.proposals != frozenset()
    assert stats["on_workers"] == 0 and stats["seconds"] < 30  # no wait for a group never sent


@pytest.mark.django_db
def test_components_are_taken_with_the_hubs(settings):
    """Remote-only pairs exist only through hubs: the split must see them, or an attorney's
    direct and remote cells would land in different parts, each spending their capacity."""
    call_command("seed_scale", attorneys=40, cases=400, seed=6)
    problem = load_problem()
    assert len(problem.hubs.arc_attorney) > 0
    by_hub_graph = sorted(fanout.component_cases(problem).tolist())
    materialised = sorted(
        p.n_cases for p in components(materialise(problem.instance, problem.hubs))
    )
    direct_only = sorted(p.n_cases for p in components(problem.instance))
    assert by_hub_graph == materialised != direct_only
    settings.MATCHING_FANOUT_MIN_CASES = 1
    problem.stats.clear()
    with mock.patch.object(fanout, "_send", return_value=None):  # no broker: all solved here
        split = fanout.solve(problem)
    assert split.objective == solve_component(problem.instance, problem.hubs).objective
    assert {(_pk(a.case), _pk(a.attorney), a.score) for a in split.assignments} == _reference(
        problem
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("language_world")
def test_fan_out_is_off_by_default_and_needs_two_large_components(settings):
    problem = load_problem()
    assert sorted(fanout.component_cases(problem).tolist()) == [12, 12, 12, 12]
    assert not fanout.enabled(problem)  # MATCHING_FANOUT_MIN_CASES defaults to 0
    settings.MATCHING_FANOUT_MIN_CASES = 13
    assert not fanout.enabled(problem)
    settings.MATCHING_FANOUT_MIN_CASES = 12
    assert fanout.enabled(problem)


@pytest.fixture
def fanout_env(monkeypatch):
    """Fan-out settings for the worker process (it reads the environment when it starts), with
    the components sent to a queue nobody consumes."""
    monkeypatch.setenv("MATCHING_FANOUT_MIN_CASES", str(MIN_CASES))
    monkeypatch.setenv("MATCHING_FANOUT_TIMEOUT", "3")
    monkeypatch.setenv("MATCHING_FANOUT_QUEUE", f"nobody-{uuid.uuid4().hex[:8]}")


@pytest.mark.worker
@pytest.mark.usefixtures("language_world")
def test_a_run_inside_a_worker_whose_components_nobody_takes_still_finishes(
    fanout_env, celery_worker_queue, tmp_path
):
    """The deadlock case: the run occupies the (only) worker slot and waits on subtasks that
    no slot is free to take. The wait ends at the timeout and the run solves them itself."""
    expected = _reference(load_problem())
    result = tasks.run_matching.apply_async(kwargs={"trigger": "test"}, queue=celery_worker_queue)
    outcome = result.get(timeout=60)

    run = MatchingRun.objects.get(pk=outcome["run"])
    assert run.status == MatchingRun.Status.FINISHED
    assert _outcome(run).proposals == expected != set()
    log = (tmp_path / "worker.log").read_text()
    assert "'on_workers': 0, 'in_process': 4" in log
    # It waited for the results (allowed inside a task), rather than being refused at once.
    assert "solved in process (TimeoutError)" in log and "RuntimeError" not in log
