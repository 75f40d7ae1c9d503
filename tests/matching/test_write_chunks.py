"""On PostgreSQL a batch is claimed and inserted CLAIM_CHUNK candidates per statement, each
statement's foreign keys checked at its end (matching/pipeline/write.py, _claim_and_insert), and
writes what one statement writes."""

import math

import numpy as np
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.models import Match, MatchingRun
from matching.pipeline import write
from matching.pipeline.load import load_problem
from matching.pipeline.run import solve_problem
from volunteers.models import AttorneyProfile

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk statements elsewhere"),
]


class _Undo(Exception):
    pass


@pytest.fixture
def solved(settings):
    settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = 0  # one connection, in the test's transaction
    call_command("seed_scale", attorneys=40, cases=1000, seed=5)
    today = timezone.localdate()
    problem = load_problem(today=today)
    return problem, solve_problem(problem), today


def _written(problem, solution, today) -> tuple[int, list, dict]:
    run = MatchingRun.objects.create(trigger="test")
    n = write.write_batch(
        run=run, problem=problem, solution=solution, auto_approve=False, today=today
    )
    matches = Match.objects.filter(run=run).order_by("case_id")
    return (
        n,
        list(matches.values_list("case_id", "attorney_id", "score", "status", "breakdown")),
        dict(AttorneyProfile.objects.values_list("pk", "active_cases")),
    )


def test_a_batch_in_chunks_writes_what_one_statement_writes(solved, monkeypatch):
    problem, solution, today = solved
    try:
        with transaction.atomic():
            monkeypatch.setattr(write, "CLAIM_CHUNK", 10**6)
            whole = _written(problem, solution, today)
            raise _Undo
    except _Undo:
        pass
    monkeypatch.setattr(write, "CLAIM_CHUNK", 7)

    with CaptureQueriesContext(connection) as queries:
        chunked = _written(problem, solution, today)

    claims = [q for q in queries.captured_queries if "WITH claimed AS" in q["sql"]]
    assert whole[0] > 50
    assert len(claims) == math.ceil(whole[0] / 7)
    assert chunked == whole


def test_each_chunk_checks_its_foreign_keys_at_its_end(solved, monkeypatch):
    problem, solution, today = solved
    monkeypatch.setattr(write, "CLAIM_CHUNK", 5)
    proposals = write._Proposals.of(solution)
    candidates = write._chosen(proposals, dict.fromkeys(proposals.attorney.tolist(), 10**6))
    run = MatchingRun.objects.create(trigger="test")
    batch = write._explained(write._Facts(run, problem, Match.Status.PROPOSED, today), candidates)
    nobody = np.where(np.arange(len(candidates.case)) == 7, 10**9, candidates.attorney)
    broken = batch._replace(candidates=candidates._replace(attorney=nobody))

    returned = []
    with pytest.raises(IntegrityError), transaction.atomic():
        returned.append(write._claim_and_insert(broken))  # fails here, not at the commit

    assert returned == []
