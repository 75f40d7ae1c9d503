"""The full load's read (matching/pipeline/load/__init__.py, beside.py): on PostgreSQL, in a
snapshot of its own, the open cases are read on a second connection sharing that snapshot while
the first reads the attorneys; the problem is the one a single connection reads."""

import threading

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import CaseRequest
from matching.models import Match
from matching.pipeline import load as loading
from matching.pipeline.load import case_id, load_problem
from matching.pipeline.load import cases as cases_module
from matching.solver import instance_to_json
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory
from volunteers.models import AttorneyProfile

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the second connection sees only what is committed
    pytest.mark.skipif("connection.vendor != 'postgresql'"),  # elsewhere one connection reads
]


@pytest.fixture
def world():
    """A seed_scale world with other languages on some cases and a few exclusions."""
    call_command("seed_scale", attorneys=40, cases=400, seed=11)
    cases = list(CaseRequest.objects.order_by("pk").values_list("pk", flat=True))
    CaseRequest.other_languages.through.objects.bulk_create(
        (
            CaseRequest.other_languages.through(caserequest_id=pk, language_id=code)
            for pk in cases[::7]
            for code in ("spa", "fra")
        ),
        ignore_conflicts=True,
    )
    attorneys = list(AttorneyProfile.objects.order_by("pk"))
    for attorney, pk in zip(attorneys[:5], cases[::50], strict=False):
        MatchFactory(
            attorney=attorney, case_id=pk, status=Match.Status.DECLINED, decline_reason="conflict"
        )


def _case_reads(queries) -> int:
    """How many of ``queries`` are the packed read of the open cases (cases.py)."""
    return sum("GREATEST(x.priority, 0)" in query["sql"] for query in queries)


def _same(one, other) -> None:
    assert instance_to_json(one.instance) == instance_to_json(other.instance)
    assert one.cells == other.cells
    assert np.array_equal(one.case_cell, other.case_cell)
    assert np.array_equal(one.miles, other.miles)
    for name in ("cell_start", "cell", "arc_attorney", "arc_hub", "affinity"):
        assert np.array_equal(getattr(one.hubs, name), getattr(other.hubs, name))


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_the_cases_read_beside_give_the_problem_one_connection_reads(world, parts, monkeypatch):
    monkeypatch.setattr(cases_module, "PARTS", parts)
    starts = {first for first, _ in cases_module._page_ranges(parts)}
    assert len(starts) == parts  # no part is empty
    with CaptureQueriesContext(connection) as beside:
        parallel = load_problem()
    with transaction.atomic(), CaptureQueriesContext(connection) as alone:
        sequential = load_problem()  # inside a transaction: its snapshot is not the load's own
    assert _case_reads(beside.captured_queries) == 0  # read on the other connection
    assert _case_reads(alone.captured_queries) == 1
    assert Match.objects.filter(case__status="open").exists()
    _same(parallel, sequential)


def _commit_elsewhere(write) -> None:
    """``write`` in one transaction on a third connection, committed before this returns."""
    errors: list[BaseException] = []

    def work():
        try:
            with transaction.atomic():
                write()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not errors


def test_a_commit_between_the_reads_is_seen_by_none_of_the_connections(world, monkeypatch):
    """A new attorney, a new case and an exclusion, committed together after the snapshot was
    taken and before any connection reads: the problem is the one before the commit, not the
    new case without its exclusion (what a second snapshot would give)."""
    before = load_problem()
    new: list[int] = []

    def write():
        attorney = AttorneyFactory(languages={"spa": 4})
        case = CaseRequestFactory(language_id="spa")
        MatchFactory(attorney=attorney, case=case, status=Match.Status.DECLINED,
                     decline_reason="conflict")  # fmt: skip
        new.append(case.pk)

    def start_after_a_commit(submit):
        _commit_elsewhere(write)
        return start(submit)

    start = loading.start_cases_packed
    monkeypatch.setattr(loading, "start_cases_packed", start_after_a_commit)
    during = load_problem()
    assert new
    _same(during, before)
    monkeypatch.undo()
    after = load_problem()
    assert case_id(new[0]) in after.instance.case_ids
    assert after.instance.n_attorneys == before.instance.n_attorneys + 1


def _connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_an_error_in_the_read_beside_reaches_the_caller_and_its_connection_closes(
    world, monkeypatch
):
    load_problem()
    open_before = _connections()

    def failing(*args, **kwargs):
        raise RuntimeError("the case read failed")

    monkeypatch.setattr(cases_module, "_packed_cases", failing)
    with pytest.raises(RuntimeError, match="the case read failed"):
        load_problem()
    assert _connections() == open_before
