"""The nightly pruning of cases_other_language_cell (cases/other_language_cells.py): a cell whose
cases all closed goes, one with a case that is not closed stays, even one gaining its case in a
transaction still open while the prune runs (PostgreSQL: the list exists only there)."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from cases import other_language_cells, tasks
from cases.models import CaseRequest
from cases.other_language_cells import case_other_language_cells_prune
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL table")


@pytest.fixture(autouse=True)
def _no_cell_listed() -> None:
    """Start from an empty list: the flush after a test with transaction=True leaves its rows
    (no model owns the table), and a reloaded court has a new id."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_other_language_cell")


def _case(*, detained: bool, others: tuple[str, ...] = ("hat",)) -> CaseRequest:
    """A Spanish case with other languages; ``detained`` sets its cell apart."""
    case = CaseRequestFactory(detained=detained)
    through = CaseRequest.other_languages.through
    through.objects.bulk_create([through(caserequest_id=case.pk, language_id=c) for c in others])
    return case


def _close(case: CaseRequest) -> None:
    CaseRequest.objects.filter(pk=case.pk).update(
        status=CaseRequest.Status.CLOSED, closed_at=timezone.now()
    )


def _cells() -> set[tuple[str, bool]]:
    """The listed cells as (other languages, detained): the tests' cases differ in nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT other_languages_key, detained FROM cases_other_language_cell")
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_a_cell_whose_cases_all_closed_is_pruned_and_cells_with_a_case_not_closed_are_kept():
    _close(_case(detained=True, others=("hat",)))  # its only case closed
    _close(_case(detained=False, others=("fra",)))
    _case(detained=False, others=("fra",))  # one closed, one open
    matched = _case(detained=False, others=("mam",))
    CaseRequest.objects.filter(pk=matched.pk).update(status=CaseRequest.Status.MATCHED)
    moved = _case(detained=True, others=("pan",))
    CaseRequest.objects.filter(pk=moved.pk).update(detained=False)  # its old cell left empty
    listed = {("hat", True), ("fra", False), ("mam", False), ("pan", True), ("pan", False)}
    assert _cells() == listed

    assert case_other_language_cells_prune() == 2
    assert _cells() == {("fra", False), ("mam", False), ("pan", False)}
    assert case_other_language_cells_prune() == 0


@pytest.mark.django_db
def test_the_nightly_retention_task_prunes_the_cells():
    _close(_case(detained=True))

    assert tasks.purge_closed_cases() == 0  # nothing due for anonymising
    assert _cells() == set()


def _writer_holding_open(*, detained: bool) -> tuple[threading.Thread, threading.Event]:
    """A transaction of its own that has added a case with other languages (the triggers have
    noted its cell) and commits once the returned event is set."""
    noted, release = threading.Event(), threading.Event()

    def write() -> None:
        try:
            with transaction.atomic():
                _case(detained=detained)
                noted.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()  # this thread's: not left to garbage collection

    writer = threading.Thread(target=write)
    writer.start()
    assert noted.wait(timeout=10)
    return writer, release


@pytest.mark.django_db(transaction=True)
def test_a_cell_gaining_a_case_in_a_transaction_open_while_the_prune_runs_is_kept():
    """The writer's trigger found the row and left it (ON CONFLICT DO NOTHING); a delete under
    a snapshot that misses the uncommitted case would drop the cell for good."""
    _close(_case(detained=True))
    writer, release = _writer_holding_open(detained=True)
    threading.Timer(1.0, release.set).start()  # commits while the prune waits for its lock

    pruned = case_other_language_cells_prune()
    writer.join(timeout=10)

    assert pruned == 0 and _cells() == {("hat", True)}


@pytest.mark.django_db(transaction=True)
def test_a_prune_that_cannot_lock_the_list_in_time_deletes_nothing(monkeypatch):
    monkeypatch.setattr(other_language_cells, "LOCK_TIMEOUT", "100ms")
    _close(_case(detained=True))
    writer, release = _writer_holding_open(detained=False)

    pruned = case_other_language_cells_prune()
    release.set()
    writer.join(timeout=10)

    assert pruned is None and _cells() == {("hat", True), ("hat", False)}
    assert case_other_language_cells_prune() == 1
    assert _cells() == {("hat", False)}
