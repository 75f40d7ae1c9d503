"""The match invariants live in the database: these inserts bypass every service on purpose."""

import pytest
from django.db import IntegrityError, transaction

from matching.models import Match
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
