"""The match invariants live in the database: these inserts bypass every service on purpose."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.models import Match, StatusRequest
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory

pytestmark = pytest.mark.django_db


def test_it_rejects_a_second_active_match_for_a_case():
    case = CaseRequestFactory()
    MatchFactory(case=case, status=Match.Status.OFFERED)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchFactory(case=case, status=Match.Status.PROPOSED)
    assert Match.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("ended", ["declined", "expired", "rejected", "withdrawn"])
def test_it_allows_a_new_match_once_the_old_one_ended(ended):
    case = CaseRequestFactory()
    extra = {"decline_reason": "no_capacity"} if ended == "declined" else {}
    MatchFactory(case=case, status=ended, **extra)
    MatchFactory(case=case, status=Match.Status.PROPOSED)
    assert Match.objects.filter(case=case).count() == 2


def test_it_rejects_the_same_case_and_attorney_twice():
    first = MatchFactory(status=Match.Status.DECLINED, decline_reason="conflict")
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchFactory(case=first.case, attorney=first.attorney, status=Match.Status.PROPOSED)
    assert Match.objects.count() == 1


def test_it_rejects_a_decline_without_a_reason():
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchFactory(status=Match.Status.DECLINED, decline_reason="")
    assert Match.objects.count() == 0


def test_it_rejects_a_non_positive_score():
    case, attorney = CaseRequestFactory(), AttorneyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(case=case, attorney=attorney, score=0)
    assert Match.objects.count() == 0


def _status_request(match, **fields):
    defaults = {"trigger": "coordinator", "expires_at": timezone.now() + timedelta(days=14)}
    return StatusRequest.objects.create(match=match, **(defaults | fields))


def test_it_rejects_a_second_open_status_request_for_a_match():
    match = MatchFactory(status=Match.Status.ACCEPTED)
    _status_request(match, token_hash="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        _status_request(match, token_hash="b" * 64)
    assert StatusRequest.objects.filter(match=match).count() == 1


def test_it_rejects_two_status_requests_with_one_token():
    """The e-mailed link finds its request by the token's hash: two rows under one hash would
    let one attorney's link open another's request."""
    _status_request(MatchFactory(status=Match.Status.ACCEPTED), token_hash="c" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        _status_request(MatchFactory(status=Match.Status.ACCEPTED), token_hash="c" * 64)
    assert StatusRequest.objects.count() == 1


def test_it_rejects_a_status_request_answered_without_an_answer():
    request = _status_request(MatchFactory(status=Match.Status.ACCEPTED), token_hash="d" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusRequest.objects.filter(pk=request.pk).update(answered_at=timezone.now())
    request.refresh_from_db()
    assert request.answered_at is None
