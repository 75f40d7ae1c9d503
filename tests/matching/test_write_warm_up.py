"""The write phase works out the pairs' affinity parts in a thread while PostgreSQL locks and
claims (matching/pipeline/write.py, issue 15): the same breakdowns as without it, and an error
there fails the batch with nothing written."""

import pytest

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from matching.pipeline import write as write_module
from matching.pipeline.run import matching_run
from tests.factories import AttorneyFactory, CaseRequestFactory
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    for language in ("spa", "fra"):
        for years in (2, 9):
            AttorneyFactory(capacity=2, languages={language: 3}, years_experience=years)
        for i in range(5):
            CaseRequestFactory(language_id=language, priority=100 + 40 * i)
    return dict(AttorneyProfile.objects.values_list("pk", "active_cases"))


def _breakdowns() -> dict[tuple[int, int], dict]:
    return {(m.attorney_id, m.case_id): m.breakdown for m in Match.objects.all()}


def _reset(counters: dict[int, int]) -> None:
    Match.objects.all().delete()
    MatchingRun.objects.all().delete()
    CaseRequest.objects.update(status=CaseRequest.Status.OPEN)
    for pk, active in counters.items():
        AttorneyProfile.objects.filter(pk=pk).update(active_cases=active)


def test_the_breakdowns_are_those_worked_out_row_by_row(world, monkeypatch):
    matching_run()
    warmed = _breakdowns()
    _reset(world)
    monkeypatch.setattr(write_module._Explainer, "warm_up", lambda *args, **kwargs: None)

    matching_run()

    assert len(warmed) == 8
    assert _breakdowns() == warmed


def test_an_error_while_warming_up_fails_the_batch_and_writes_nothing(world, monkeypatch):
    def broken(self, position, cell_position):
        raise ValueError("no affinity")

    monkeypatch.setattr(write_module._Explainer, "_affinity", broken)

    with pytest.raises(ValueError, match="no affinity"):
        matching_run()

    assert not Match.objects.exists()
    assert not CaseRequest.objects.exclude(status=CaseRequest.Status.OPEN).exists()
    assert dict(AttorneyProfile.objects.values_list("pk", "active_cases")) == world
    assert MatchingRun.objects.get().status == MatchingRun.Status.FAILED
