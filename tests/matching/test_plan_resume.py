"""A run that dies while writing is finished from its stored plan (REL-3, REL-5; pipeline/plan.py).

Each test builds the same world twice over: once to see what an uninterrupted run writes, once
to interrupt. Interruptions are ``SystemExit`` (what a killed worker looks like from inside: no
``except Exception`` marks the run) or a database error (REL-5: the run is marked FAILED).
"""

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from matching.pipeline import plan as plans
from matching.pipeline import run as run_module
from matching.pipeline.run import matching_run, solve_problem
from tests.factories import AttorneyFactory, CaseRequestFactory
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVE = Match.ACTIVE_STATUSES


def _active_pairs() -> set[tuple[int, int]]:
    return set(Match.objects.filter(status__in=ACTIVE).values_list("attorney_id", "case_id"))


# Six languages nobody else speaks: six components, so six write batches to die between. Equal
# attorneys and equal priorities make the optimum far from unique, as at backlog scale.
LANGUAGES = ("spa", "fra", "hat", "por", "ara", "rus")


@pytest.fixture
def world(settings):
    """A world, its uninterrupted result, then the world reset to before the run."""
    settings.MATCHING_WRITE_BATCH_ASSIGNMENTS = 1  # a batch per component
    for language in LANGUAGES:
        for _ in range(3):
            AttorneyFactory(capacity=3, languages={language: 3})
        for i in range(10):
            CaseRequestFactory(language_id=language, priority=100 + 50 * (i // 2))
    counters = dict(AttorneyProfile.objects.values_list("pk", "active_cases"))
    matching_run()
    uninterrupted = _active_pairs()
    assert len(uninterrupted) > 10
    Match.objects.all().delete()
    MatchingRun.objects.all().delete()
    CaseRequest.objects.update(status=CaseRequest.Status.OPEN)
    for pk, active in counters.items():
        AttorneyProfile.objects.filter(pk=pk).update(active_cases=active)
    return uninterrupted


def _dies_after(monkeypatch, batches: int, error: BaseException):
    """Make write_batch commit ``batches`` batches, then raise ``error`` (once)."""
    real, written = run_module.write_batch, []

    def write(**kwargs):
        if len(written) == batches:
            monkeypatch.setattr(run_module, "write_batch", real)
            raise error
        written.append(real(**kwargs))
        return written[-1]

    monkeypatch.setattr(run_module, "write_batch", write)


def _stale_lock_for_sqlite():
    if connection.vendor != "postgresql":  # without advisory locks a RUNNING row holds the lock
        long_ago = timezone.now() - run_module.STALE_RUN_AFTER - timedelta(minutes=1)
        MatchingRun.objects.filter(status=MatchingRun.Status.RUNNING).update(started_at=long_ago)


def _never_solve(problem):
    raise AssertionError("a run with a plan to finish must not solve again")


def test_a_killed_run_is_finished_from_its_plan_without_solving_again(world, monkeypatch):
    _dies_after(monkeypatch, 2, SystemExit("worker killed"))
    with pytest.raises(SystemExit):
        matching_run()
    killed = MatchingRun.objects.get()
    assert killed.status == MatchingRun.Status.RUNNING and killed.plan is not None
    assert 0 < len(_active_pairs()) < len(world)
    _stale_lock_for_sqlite()

    resumed = matching_run(solver=_never_solve)

    assert _active_pairs() == world
    assert resumed.stats["resumed_from"] == killed.pk
    assert resumed.proposals == len(world) - Match.objects.exclude(run=resumed).count()
    killed.refresh_from_db()
    assert killed.status == MatchingRun.Status.FAILED
    assert not MatchingRun.objects.exclude(plan=None).exists()  # written: nothing kept


def test_repeated_kills_still_end_with_the_uninterrupted_result(world, monkeypatch):
    for _ in range(3):
        _dies_after(monkeypatch, 1, SystemExit("worker killed"))
        with pytest.raises(SystemExit):
            matching_run(solver=solve_problem if not MatchingRun.objects.exists() else _never_solve)
        _stale_lock_for_sqlite()

    matching_run(solver=_never_solve)

    assert _active_pairs() == world
    assert MatchingRun.objects.filter(status=MatchingRun.Status.FINISHED).count() == 1
    assert MatchingRun.objects.filter(status=MatchingRun.Status.FAILED).count() == 3


def test_a_database_error_mid_write_is_finished_by_the_retry(world, monkeypatch):
    _dies_after(monkeypatch, 1, OperationalError("server closed the connection"))
    with pytest.raises(OperationalError):
        matching_run()
    failed = MatchingRun.objects.get()
    assert failed.status == MatchingRun.Status.FAILED  # recorded, and its plan kept

    retried = matching_run(solver=_never_solve)

    assert retried.stats["resumed_from"] == failed.pk
    assert _active_pairs() == world


def test_a_run_killed_before_its_plan_was_stored_is_solved_again(world, monkeypatch):
    def killed_mid_solve(problem):
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        matching_run(solver=killed_mid_solve)
    _stale_lock_for_sqlite()

    fresh = matching_run()

    assert fresh.stats["resumed_from"] is None
    assert _active_pairs() == world


def test_an_old_plan_is_dropped_and_the_world_solved_afresh(world, monkeypatch):
    _dies_after(monkeypatch, 1, SystemExit("worker killed"))
    with pytest.raises(SystemExit):
        matching_run()
    too_old = timezone.now() - plans.RESUME_WITHIN - timedelta(minutes=1)
    MatchingRun.objects.update(started_at=too_old)

    fresh = matching_run()

    assert fresh.stats["resumed_from"] is None
    assert not MatchingRun.objects.exclude(plan=None).exists()


def test_a_resumed_plan_skips_what_changed_meanwhile(world, monkeypatch):
    _dies_after(monkeypatch, 1, SystemExit("worker killed"))
    with pytest.raises(SystemExit):
        matching_run()
    _stale_lock_for_sqlite()
    written = _active_pairs()
    pending = sorted(world - written)
    withdrawn_case = pending[0][1]
    CaseRequest.objects.filter(pk=withdrawn_case).update(status=CaseRequest.Status.WITHDRAWN)

    matching_run(solver=_never_solve)

    assert _active_pairs() == world - {pending[0]}
    assert not Match.objects.filter(case_id=withdrawn_case).exists()
