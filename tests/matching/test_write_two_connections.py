"""A large batch is written on two database connections at once, still all or nothing
(matching/pipeline/write.py, _write_twice): each connection claims and inserts the proposals of
its own attorneys, and neither commits before both have passed every check.

The second connection is a real one, so these tests commit their world (transaction=True).
"""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from matching.pipeline import write
from matching.pipeline.load import load_problem
from matching.pipeline.run import matching_run, solve_problem
from volunteers.models import AttorneyProfile

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="one connection elsewhere"),
]


@pytest.fixture
def world():
    call_command("seed_scale", attorneys=40, cases=1000, seed=5)


def _state() -> tuple:
    """Everything a write changes: the matches, the cases' statuses, the counters."""
    return (
        set(Match.objects.values_list("case_id", "attorney_id", "score", "status")),
        set(CaseRequest.objects.values_list("pk", "status")),
        set(AttorneyProfile.objects.values_list("pk", "active_cases")),
    )


def _solved():
    today = timezone.localdate()
    problem = load_problem(today=today)
    return problem, solve_problem(problem), MatchingRun.objects.create(trigger="test"), today


def _write(problem, solution, run, today) -> int:
    return write.write_batch(
        run=run, problem=problem, solution=solution, auto_approve=False, today=today
    )


def _other_connections() -> set[int]:
    """Server processes of the connections to this database other than this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.fixture(autouse=True)
def _connections_before():
    """The other connections open when the test starts (one an earlier test of the session left
    to a thread, say): what the write opens is counted apart from them."""
    global _BEFORE
    _BEFORE = _other_connections()


_BEFORE: set[int] = set()


def _second_connections() -> int:
    """Connections to this database opened since the test started, other than this one (the
    second one is closed after).

    A closed connection's server process can still be listed for a moment while it exits, so
    the count is read again until it falls to 0, for at most 5 s: one left open stays listed.
    """
    deadline = time.monotonic() + 5
    while True:
        others = len(_other_connections() - _BEFORE)
        if others == 0 or time.monotonic() > deadline:
            return others
        time.sleep(0.05)


def test_two_connections_write_what_one_writes(world, settings):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 0  # one connection
    before = _state()
    one = matching_run()
    on_one = _state()
    Match.objects.all().delete()
    CaseRequest.objects.update(status=CaseRequest.Status.OPEN)
    for pk, active in before[2]:
        AttorneyProfile.objects.filter(pk=pk).update(active_cases=active)
    assert _state() == before
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1

    two = matching_run()

    assert two.proposals == one.proposals > 50
    assert two.objective == one.objective
    assert _state() == on_one
    assert _second_connections() == 0


def test_both_halves_hold_proposals(world, settings, monkeypatch):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1
    threads, real = [], write._claim_and_insert

    def claim(batch):
        threads.append((threading.current_thread() is threading.main_thread(), batch))
        return real(batch)

    monkeypatch.setattr(write, "_claim_and_insert", claim)
    problem, solution, run, today = _solved()

    written = _write(problem, solution, run, today)

    assert sorted(main for main, _ in threads) == [False, True]
    parts = [set(batch.candidates.attorney.tolist()) for _, batch in threads]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert written == sum(len(batch.candidates.case) for _, batch in threads)
    assert Match.objects.filter(run=run).count() == written


@pytest.mark.parametrize("failing", ["second", "this"])
def test_a_failure_on_either_connection_writes_nothing(world, settings, monkeypatch, failing):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1
    real = write._claim_and_insert

    def claim(batch):
        written = real(batch)  # the other half may be done or still running
        on_main = threading.current_thread() is threading.main_thread()
        if on_main == (failing == "this"):
            raise DatabaseError("connection lost")
        return written

    monkeypatch.setattr(write, "_claim_and_insert", claim)
    problem, solution, run, today = _solved()
    before = _state()

    with pytest.raises(DatabaseError):
        _write(problem, solution, run, today)

    assert _state() == before  # no match, no case claimed, no counter raised
    assert _second_connections() == 0


def test_a_deferred_check_failing_commits_neither_half(world, settings):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1
    problem, solution, run, today = _solved()
    MatchingRun.objects.filter(pk=run.pk).delete()  # the matches' run_id now points nowhere
    before = _state()

    with pytest.raises(IntegrityError):
        _write(problem, solution, run, today)

    assert _state() == before
    assert _second_connections() == 0


def test_a_write_that_keeps_nothing_ends_both_transactions(world, settings):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1
    problem, solution, run, today = _solved()
    AttorneyProfile.objects.update(active_cases=0, capacity=0)  # no room left anywhere
    before = _state()

    assert _write(problem, solution, run, today) == 0

    assert _state() == before
    assert _second_connections() == 0


def test_each_connection_waits_for_a_row_lock_at_most_the_timeout(world, settings, monkeypatch):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 1
    timeouts, real = [], write._lock_attorneys

    def lock(pks, today):
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            timeouts.append(cursor.fetchone()[0])
        return real(pks, today)

    monkeypatch.setattr(write, "_lock_attorneys", lock)
    problem, solution, run, today = _solved()

    _write(problem, solution, run, today)

    assert timeouts == [write.LOCK_TIMEOUT] * 2
