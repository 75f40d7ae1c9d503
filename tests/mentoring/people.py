"""Mentors and mentees built through the same services the pages call (no shortcuts)."""

from matching.services import match_accept, match_attest_no_conflict
from mentoring.models import Mentorship
from mentoring.services import (
    mentoring_preferences_set,
    mentorship_accept,
    mentorship_approve,
    mentorship_propose,
)
from tests.factories import AttorneyFactory
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile


def mentor_create(*, capacity=2, years=12, **fields):
    mentor = AttorneyFactory(years_experience=years, **fields)
    mentoring_preferences_set(
        attorney=mentor, wants_mentor=False, request_note="", mentee_capacity=capacity
    )
    return mentor


def mentee_create(*, note="First asylum merits hearing coming up", **fields):
    mentee = AttorneyFactory(years_experience=0, **fields)
    mentoring_preferences_set(
        attorney=mentee, wants_mentor=True, request_note=note, mentee_capacity=0
    )
    return mentee


def make_experienced(attorney: AttorneyProfile, *, capacity=3) -> None:
    AttorneyProfile.objects.filter(pk=attorney.pk).update(years_experience=10)
    attorney.refresh_from_db()
    mentoring_preferences_set(
        attorney=attorney, wants_mentor=False, request_note="", mentee_capacity=capacity
    )


def mentorship_offered(*, mentor, mentee, coordinator) -> Mentorship:
    proposed = mentorship_propose(
        mentor_id=mentor.pk,
        mentee_id=mentee.pk,
        score=500,
        breakdown={"language": "spa", "areas": ["asylum"], "miles": 3},
    )
    return mentorship_approve(mentorship=proposed, actor=coordinator)


def mentorship_accepted(*, mentor, mentee, coordinator) -> Mentorship:
    offered = mentorship_offered(mentor=mentor, mentee=mentee, coordinator=coordinator)
    return mentorship_accept(mentorship=offered, user=mentor.user)


def accepted_case(*, attorney, coordinator, **case_fields):
    match = offer_create(attorney=attorney, coordinator=coordinator, **case_fields)
    match_attest_no_conflict(match=match, user=attorney.user)
    return match_accept(match=match, user=attorney.user)


def matrix_objects(*, owner, coordinator) -> dict:
    """For the permission matrix: `owner` mentors one attorney, who shared an accepted case
    the owner has attested on, and has an open mentoring offer from another."""
    from mentoring.services import case_share, case_share_attest

    make_experienced(owner, capacity=3)
    accepted = mentorship_accepted(mentor=owner, mentee=mentee_create(), coordinator=coordinator)
    shared = case_share(
        match=accepted_case(attorney=accepted.mentee, coordinator=coordinator),
        user=accepted.mentee.user,
    )
    case_share_attest(share=shared, user=owner.user)
    offered = mentorship_offered(mentor=owner, mentee=mentee_create(), coordinator=coordinator)
    return {"mentorship": accepted, "mentorship_offer": offered, "share": shared}
