"""Concurrent clicks against the real database: the capacity counter and the case stay right."""

import pytest
from django.db import connection

from matching.models import Match
from matching.services import MatchError, match_accept, match_attest_no_conflict, match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory
from tests.races import race
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_accepts_of_the_same_offer_succeed_once(coord):
    attorney = AttorneyFactory(capacity=1)
    match = offer_create(attorney=attorney, coordinator=coord)
    match_attest_no_conflict(match=match, user=attorney.user)
    results = race(*[lambda: match_accept(match=match, user=attorney.user)] * 2)
    assert sum(isinstance(r, Match) for r in results) == 1
    assert [r.code for r in results if isinstance(r, MatchError)] == ["not_offered"]
    attorney.refresh_from_db()
    assert attorney.active_cases == 1


def test_two_cases_racing_for_the_last_slot_get_it_once(coord):
    """Capacity is taken when a match is made, so the race that could exceed it is there."""
    attorney = AttorneyFactory(capacity=1)
    cases = CaseRequestFactory.create_batch(2)
    results = race(
        *[
            lambda c=case: match_propose(case=c, attorney=attorney, score=100, breakdown={})
            for case in cases
        ]
    )
    assert sum(isinstance(r, Match) for r in results) == 1
    assert [r.code for r in results if isinstance(r, MatchError)] == ["capacity_exceeded"]
    assert AttorneyProfile.objects.get(pk=attorney.pk).active_cases == 1


def test_accept_and_decline_at_once_leave_one_consistent_answer(coord):
    from matching.services import match_decline

    attorney = AttorneyFactory(capacity=1)
    match = offer_create(attorney=attorney, coordinator=coord)
    match_attest_no_conflict(match=match, user=attorney.user)
    results = race(
        lambda: match_accept(match=match, user=attorney.user),
        lambda: match_decline(match=match, user=attorney.user, reason="distance"),
    )
    assert sum(isinstance(r, Match) for r in results) == 1
    match.refresh_from_db()
    attorney.refresh_from_db()
    expected = 1 if match.status == Match.Status.ACCEPTED else 0
    assert attorney.active_cases == expected
    assert match.case.__class__.objects.get(pk=match.case_id).status == (
        "represented" if expected else "open"
    )


def test_two_attorneys_requesting_one_case_at_once_get_it_once():
    """The opportunity board (issue 13): one request wins, the other gets a clear refusal."""
    from matching.services import match_request_by_attorney

    first, second = AttorneyFactory(), AttorneyFactory()
    case = CaseRequestFactory()
    case = type(case).objects.select_related("language", "relay_language", "case_type", "court")
    case = case.get()
    results = race(
        *[lambda a=a: match_request_by_attorney(case=case, attorney=a) for a in (first, second)]
    )
    assert sum(isinstance(r, Match) for r in results) == 1
    assert [r.code for r in results if isinstance(r, MatchError)] == ["case_taken"]
    winner = Match.objects.get(case=case)
    assert winner.source == Match.Source.ATTORNEY
    counters = dict(AttorneyProfile.objects.values_list("pk", "active_cases"))
    assert counters[winner.attorney_id] == 1
    assert sum(counters.values()) == 1
