"""The matching-run tasks: real worker round trip, retries, debounce, beat, redelivery."""

import os
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from cases.models import CaseRequest
from config.celery import app
from matching.models import Match, MatchingRun
from matching.pipeline import run as run_module
from matching.pipeline import write as write_module
from matching.pipeline.load import load_problem
from matching.pipeline.run import matching_run
from matching.solver import components, instance_to_json, materialise, solution_to_json, solve
from matching.tasks import runs as tasks
from matching.tasks.solve import solve_component_task
from volunteers.models import AttorneyProfile

ACTIVE = Match.ACTIVE_STATUSES


def _active_pairs() -> set[tuple[int, int]]:
    return set(Match.objects.filter(status__in=ACTIVE).values_list("attorney_id", "case_id"))


@pytest.mark.worker
def test_a_run_round_trips_through_a_real_worker(celery_worker_queue):
    call_command("seed_scale", attorneys=30, cases=300, seed=4)
    result = tasks.run_matching.apply_async(kwargs={"trigger": "test"}, queue=celery_worker_queue)
    outcome = result.get(timeout=120)
    run = MatchingRun.objects.get(pk=outcome["run"])
    assert outcome["status"] == run.status == MatchingRun.Status.FINISHED
    assert Match.objects.filter(run=run).count() == outcome["proposals"] == run.proposals > 0


@pytest.mark.django_db
def test_the_task_retries_transient_database_errors_a_bounded_number_of_times():
    # REL-6: max_retries + 1 attempts, then the error surfaces.
    calls = []

    def down(**kwargs):
        calls.append(kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    with mock.patch.object(tasks, "matching_run", side_effect=down):
        result = tasks.run_matching.apply(kwargs={"trigger": "test"})
    assert len(calls) == tasks.run_matching.max_retries + 1 == 4
    assert isinstance(result.result, OperationalError)


def test_the_task_is_configured_for_redelivery_and_bounded_backoff():
    task = tasks.run_matching
    assert task.acks_late and task.reject_on_worker_lost  # REL-3
    assert OperationalError in task.autoretry_for
    # REL-6: every countdown stays below the broker's visibility timeout.
    assert task.retry_backoff_max < settings.CELERY_VISIBILITY_TIMEOUT
    assert tasks.DEBOUNCE_SECONDS < settings.CELERY_VISIBILITY_TIMEOUT


def test_the_beat_schedule_runs_matching_every_five_minutes():
    entry = app.conf.beat_schedule["matching-run"]
    assert entry["task"] == tasks.run_matching.name == "matching.run_matching"
    assert entry["schedule"] == 300
    assert entry["options"]["expires"] < entry["schedule"]


@pytest.mark.django_db
def test_requests_within_the_window_enqueue_one_run_after_commit(
    django_capture_on_commit_callbacks,
):
    cache.delete(tasks._DEBOUNCE_KEY)
    with (
        mock.patch.object(tasks.run_matching, "apply_async") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = tasks.matching_run_request("case")
        second = tasks.matching_run_request("attorney")
        assert not enqueue.called  # REL-1: nothing before commit
    assert (first, second) == (True, False)
    enqueue.assert_called_once_with(
        kwargs={"trigger": "case", "small": True}, countdown=tasks.DEBOUNCE_SECONDS
    )
    cache.delete(tasks._DEBOUNCE_KEY)


@pytest.mark.django_db
def test_a_request_after_the_window_enqueues_again(django_capture_on_commit_callbacks):
    cache.delete(tasks._DEBOUNCE_KEY)
    with mock.patch.object(tasks.run_matching, "apply_async") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.matching_run_request("case")
        cache.delete(tasks._DEBOUNCE_KEY)  # the window has passed
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.matching_run_request("case")
    assert enqueue.call_count == 2
    cache.delete(tasks._DEBOUNCE_KEY)


@pytest.mark.django_db
def test_the_component_task_returns_the_single_process_result_when_merged():
    call_command("seed_scale", attorneys=40, cases=400, seed=6)
    problem = load_problem()
    instance = materialise(problem.instance, problem.hubs)
    parts = components(instance)
    assert len(parts) > 1
    results = [solve_component_task.apply(args=[instance_to_json(p)]).get() for p in parts]
    merged = sorted(
        (x for r in results for x in r["assignments"]), key=lambda x: (x["attorney"], x["case"])
    )
    whole = solution_to_json(solve(instance))
    assert sum(r["objective"] for r in results) == whole["objective"]
    assert merged == whole["assignments"]


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_between_batches_is_finished_by_the_redelivered_run(monkeypatch, settings):
    """REL-3 at the service level: a run dies after committing its first component batch (the
    worker is killed); the redelivered run completes it, and the result equals an uninterrupted
    run's."""
    settings.MATCHING_WRITE_BATCH_ASSIGNMENTS = 1  # a batch per component
    call_command("seed_scale", attorneys=40, cases=400, seed=8)
    initial_capacity = dict(AttorneyProfile.objects.values_list("pk", "active_cases"))

    matching_run()
    uninterrupted = _active_pairs()
    assert len(uninterrupted) > 0
    Match.objects.all().delete()
    CaseRequest.objects.update(status=CaseRequest.Status.OPEN)
    for pk, active in initial_capacity.items():
        AttorneyProfile.objects.filter(pk=pk).update(active_cases=active)

    real_write, written = write_module.write_batch, []

    def dies_after_one_batch(**kwargs):
        if written:
            raise SystemExit("worker killed")  # not an Exception: nothing marks the run
        written.append(real_write(**kwargs))
        return written[-1]

    monkeypatch.setattr(run_module, "write_batch", dies_after_one_batch)
    with pytest.raises(SystemExit):
        matching_run()
    assert 0 < len(_active_pairs()) < len(uninterrupted)
    monkeypatch.setattr(run_module, "write_batch", real_write)
    if connection.vendor != "postgresql":
        # Without advisory locks the dead run's RUNNING row holds the lock until it is stale.
        long_ago = timezone.now() - run_module.STALE_RUN_AFTER - timedelta(minutes=1)
        MatchingRun.objects.filter(status=MatchingRun.Status.RUNNING).update(started_at=long_ago)

    redelivered = matching_run()

    assert _active_pairs() == uninterrupted
    assert redelivered.status == MatchingRun.Status.FINISHED
    assert MatchingRun.objects.filter(status=MatchingRun.Status.RUNNING).count() == 0
    assert MatchingRun.objects.filter(status=MatchingRun.Status.FAILED).count() == 1


def test_a_worker_imports_the_solvers_libraries_when_it_starts_and_a_web_process_never():
    """The first run in a worker does not pay for scipy's import in its write (0.3-0.7 s) nor
    for OR-Tools' in its solve; a process that only imports the tasks (the web) loads neither."""
    script = (
        "import sys, django; django.setup(); import matching.tasks.runs; "
        "from celery.signals import worker_init; "
        "names = ('scipy.sparse.csgraph', 'ortools.graph.python.min_cost_flow'); "
        "before = [name in sys.modules for name in names]; worker_init.send(sender=None); "
        "print(*before, *[name in sys.modules for name in names])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False", "True", "True"]
