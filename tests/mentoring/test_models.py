"""The mentoring invariants live in the database: these writes bypass the services on
purpose. Each was dropped from a test database in turn, and nothing else failed."""

import pytest
from django.db import IntegrityError, transaction

from mentoring.models import CaseShare, MentoringProfile, Mentorship
from tests.mentoring.people import accepted_case, mentee_create, mentor_create, mentorship_accepted

pytestmark = pytest.mark.django_db


def test_it_rejects_a_mentee_capacity_above_the_most_a_mentor_takes():
    mentor = mentor_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        MentoringProfile.objects.filter(attorney=mentor).update(mentee_capacity=6)


def test_it_rejects_a_second_mentoring_profile_for_one_attorney():
    profile = MentoringProfile.objects.get(attorney=mentor_create())
    profile.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        profile.save()
    assert MentoringProfile.objects.count() == 1


def test_it_rejects_an_attorney_mentoring_themselves():
    mentor = mentor_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mentorship.objects.create(mentor=mentor, mentee=mentor, score=1)
    assert not Mentorship.objects.exists()


def test_it_rejects_a_mentorship_with_a_non_positive_score():
    with pytest.raises(IntegrityError), transaction.atomic():
        Mentorship.objects.create(mentor=mentor_create(), mentee=mentee_create(), score=0)
    assert not Mentorship.objects.exists()


def test_it_rejects_a_pair_proposed_again_after_it_ended():
    """A declined or rejected pair is never proposed again: its row stays and blocks it."""
    mentor, mentee = mentor_create(), mentee_create()
    Mentorship.objects.create(
        mentor=mentor, mentee=mentee, score=1, status=Mentorship.Status.DECLINED
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Mentorship.objects.create(mentor=mentor, mentee=mentee, score=1)
    assert Mentorship.objects.count() == 1


def test_it_rejects_sharing_one_case_twice_in_a_mentorship(coord):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    match = accepted_case(attorney=accepted.mentee, coordinator=coord)
    CaseShare.objects.create(mentorship=accepted, match=match)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseShare.objects.create(mentorship=accepted, match=match)
    assert CaseShare.objects.count() == 1
