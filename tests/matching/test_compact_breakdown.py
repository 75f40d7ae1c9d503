"""A run stores compact breakdowns that read as the full ones (matching/breakdown.py, issue 15).

A run writes the inputs of each proposal's parts (no scoring runs per proposal), and the field
works the parts out when the row is read: every reader must see exactly the breakdown the run used
to write, worked out by the scorer from the attorney's and the case's facts at the run.
"""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cases.models import CaseRequest
from cases.priority import case_priority
from matching.breakdown import cell_of_key, expand
from matching.models import Match
from matching.pipeline.load import cell_id, load_problem
from matching.pipeline.run import matching_run
from matching.scoring import CellFacts, affinity
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db


def _written_before(problem, match: Match, today) -> dict:
    """The breakdown as the run wrote it before (its explainer, in full)."""
    position = int(problem.attorneys.pk.searchsorted(match.attorney_id))
    cell = problem.cells[int(problem.case_cell[problem.case_pk.searchsorted(match.case_id)])]
    parts = affinity(
        problem.attorney_facts(position), cell, miles=problem.pair_miles(position, cell)
    )
    case = CaseRequest.objects.get(pk=match.case_id)
    priority = case_priority(
        detained=case.detained,
        next_hearing_date=case.next_hearing_date,
        filing_deadline=case.filing_deadline,
        waiting_since=timezone.localtime(case.created_at).date(),
        today=today,
    )
    written = {
        "affinity": parts.as_dict(),
        "cell": cell_id(cell),
        "priority": {"stored": max(case.priority, 0), **priority.as_dict()},
    }
    if position in problem.attorneys.capped:
        cap, capacity_free = problem.attorneys.capped[position]
        left = int(problem.attorneys.free[position])
        written["monthly_cap"] = {"cap": cap, "left": left, "capacity_free": capacity_free}
    return written


@pytest.mark.parametrize("seed", [5, 17])
def test_a_run_stores_compact_facts_that_read_as_the_full_breakdown(seed):
    call_command("seed_scale", attorneys=40, cases=500, seed=seed)
    # Some attorneys' monthly cap bounds their load: their proposals name it.
    capped = AttorneyProfile.objects.filter(capacity__gte=3).order_by("pk")[:5]
    AttorneyProfile.objects.filter(pk__in=[a.pk for a in capped]).update(monthly_offer_cap=1)
    today = timezone.localdate()
    problem = load_problem(today=today)
    assert problem.attorneys.capped

    run = matching_run(trigger="test")

    matches = list(Match.objects.filter(run=run))
    assert len(matches) == run.proposals > 30
    for match in matches:
        assert match.breakdown == _written_before(problem, match, today)
    assert any("monthly_cap" in match.breakdown for match in matches)
    assert any(match.breakdown["affinity"]["remote"] for match in matches)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT breakdown FROM {Match._meta.db_table}")  # noqa: S608
        stored = [row[0] if isinstance(row[0], list) else json.loads(row[0]) for row in cursor]
    assert all(isinstance(value, list) and value[0] == 2 for value in stored)
    assert len(json.dumps(stored[0])) < 250  # against ~700 bytes written in full


def test_values_lists_read_the_full_breakdown_too():
    call_command("seed_scale", attorneys=10, cases=80, seed=3)
    run = matching_run(trigger="test")
    assert run.proposals
    for score, breakdown in Match.objects.values_list("score", "breakdown"):
        assert breakdown["affinity"]["total"] + breakdown["priority"]["stored"] == score


@pytest.mark.parametrize(
    "value",
    [[2], [2, "x", 1, True, None, None, "2026-01-01T00:00:00+00:00", "2026-02-01"], [2, [], 0]],
)
def test_a_malformed_compact_breakdown_reads_as_empty(value):
    assert expand(value) == {}


@pytest.mark.parametrize("value", [None, {}, {"affinity": {}}, [], [1, 2], "text"])
def test_other_values_read_unchanged(value):
    assert expand(value) == value


@pytest.mark.parametrize(
    "cell",
    [
        {"language": "spa", "relay_language": None, "case_type": "asylum", "court_id": 7},
        {"language": "quc", "other_languages": ("spa",), "relay_language": None,
         "case_type": "cancellation-nonlpr", "court_id": 12, "detained": True},
        {"language": "mam", "relay_language": "spa", "case_type": "u-visa", "court_id": 3,
         "remote_ok": True},
    ],
)  # fmt: skip
def test_a_cell_key_names_its_cell(cell):
    facts = CellFacts(
        court_latitude=0.0, court_longitude=0.0, **{"detained": False, "remote_ok": False, **cell}
    )
    assert cell_of_key(cell_id(facts)) == facts


@pytest.mark.parametrize("key", ["x.spa..7.asylum.00", "k.spa..7.asylum.0", "k.spa..7.00"])
def test_a_malformed_cell_key_is_refused(key):
    with pytest.raises(ValueError):
        cell_of_key(key)
