"""Mentoring services: preferences, the exact run, review, the mentor's answer, sharing."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from core.models import DomainEvent
from mentoring import services
from mentoring.models import CaseShare, MentoringProfile, Mentorship
from mentoring.services import (
    MentoringError,
    case_share,
    case_share_attest,
    mentoring_preferences_set,
    mentoring_run,
    mentorship_accept,
    mentorship_approve,
    mentorship_decline,
    mentorship_end,
    mentorship_offer_notify,
    mentorship_reject,
)
from tests.factories import AttorneyFactory
from tests.mentoring.people import (
    accepted_case,
    mentee_create,
    mentor_create,
    mentorship_accepted,
    mentorship_offered,
)
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db


def _slots(mentor) -> int:
    return MentoringProfile.objects.get(attorney=mentor).active_mentees


def test_it_refuses_mentoring_capacity_to_an_attorney_new_to_practice():
    newcomer = AttorneyFactory(years_experience=1)
    with pytest.raises(MentoringError) as refused:
        mentoring_preferences_set(
            attorney=newcomer, wants_mentor=False, request_note="", mentee_capacity=2
        )
    assert refused.value.code == "not_experienced"
    assert not MentoringProfile.objects.filter(attorney=newcomer, mentee_capacity__gt=0).exists()


def test_cases_handled_make_a_mentor_too():
    attorney = AttorneyFactory(years_experience=1, practice_areas=["asylum"])
    attorney.practice_area_links.update(cases_handled=30)
    profile = mentoring_preferences_set(
        attorney=attorney, wants_mentor=False, request_note="", mentee_capacity=1
    )
    assert profile.mentee_capacity == 1


def test_the_run_proposes_the_fitting_mentor_and_takes_a_slot():
    mentee = mentee_create()
    mentor = mentor_create()
    mentor_create(languages={"hat": 4}, practice_areas=["bond"])  # no language in common
    result = mentoring_run()
    assert result.proposals == 1
    mentorship = Mentorship.objects.get()
    assert (mentorship.mentor, mentorship.mentee, mentorship.status) == (mentor, mentee, "proposed")
    assert mentorship.breakdown["language"] in ("spa", "eng")
    assert _slots(mentor) == 1
    assert DomainEvent.objects.filter(verb="mentoring.run").count() == 1


def test_a_second_run_proposes_nothing_new():
    mentee_create()
    mentor_create()
    mentoring_run()
    assert mentoring_run().proposals == 0
    assert Mentorship.objects.count() == 1


@pytest.mark.parametrize("pending", ["mentee", "mentor"])
def test_the_run_leaves_out_unverified_people(pending):
    mentee_create(**({"verification": "pending"} if pending == "mentee" else {}))
    mentor_create(**({"verification": "pending"} if pending == "mentor" else {}))
    assert mentoring_run().proposals == 0


def test_approval_offers_and_emails_the_mentor_once_after_commit(
    coord, celery_eager, django_capture_on_commit_callbacks
):
    mentee, mentor = mentee_create(), mentor_create()
    mentoring_run()
    with django_capture_on_commit_callbacks(execute=True):
        with_offer = mentorship_approve(mentorship=Mentorship.objects.get(), actor=coord)
    assert not mentorship_offer_notify(mentorship_id=with_offer.pk)  # sent once only
    assert with_offer.status == "offered"
    (message,) = mail.outbox
    assert message.to == [mentor.user.email]
    assert str(mentee) in message.subject


def test_only_a_coordinator_approves(att_b):
    mentee_create(), mentor_create()
    mentoring_run()
    with pytest.raises(MentoringError) as refused:
        mentorship_approve(mentorship=Mentorship.objects.get(), actor=att_b.user)
    assert refused.value.code == "not_permitted"
    assert Mentorship.objects.get().status == "proposed"


def test_a_declined_pair_frees_the_slot_and_is_never_proposed_again(coord):
    mentee, mentor = mentee_create(), mentor_create()
    offered = mentorship_offered(mentor=mentor, mentee=mentee, coordinator=coord)
    mentorship_decline(mentorship=offered, user=mentor.user)
    assert _slots(mentor) == 0
    assert mentoring_run().proposals == 0


def test_a_rejected_proposal_frees_the_slot(coord):
    mentee_create(), mentor_create()
    mentoring_run()
    rejected = mentorship_reject(mentorship=Mentorship.objects.get(), actor=coord)
    assert rejected.status == "rejected" and _slots(rejected.mentor) == 0


def test_only_the_mentor_answers(coord, att_b):
    offered = mentorship_offered(mentor=mentor_create(), mentee=mentee_create(), coordinator=coord)
    for user in (att_b.user, offered.mentee.user):
        with pytest.raises(MentoringError) as refused:
            mentorship_accept(mentorship=offered, user=user)
        assert refused.value.code == "not_yours"
    assert Mentorship.objects.get().status == "offered"


def test_either_party_ends_and_the_slot_is_free(coord):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    ended = mentorship_end(mentorship=accepted, user=accepted.mentee.user)
    assert ended.status == "ended" and _slots(accepted.mentor) == 0


def test_capacity_cannot_drop_below_the_mentees_now(coord):
    mentor = mentor_create(capacity=1)
    mentorship_accepted(mentor=mentor, mentee=mentee_create(), coordinator=coord)
    with pytest.raises(MentoringError) as refused:
        mentoring_preferences_set(
            attorney=mentor, wants_mentor=False, request_note="", mentee_capacity=0
        )
    assert refused.value.code == "capacity_below_active"


def test_the_database_refuses_a_mentor_above_capacity(coord):
    mentor = mentor_create(capacity=1)
    mentorship_accepted(mentor=mentor, mentee=mentee_create(), coordinator=coord)
    with pytest.raises(IntegrityError), transaction.atomic():
        MentoringProfile.objects.filter(attorney=mentor).update(active_mentees=2)


def test_the_database_refuses_two_active_mentorships_for_a_mentee(coord):
    mentee = mentee_create()
    mentorship_offered(mentor=mentor_create(), mentee=mentee, coordinator=coord)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mentorship.objects.create(mentor=mentor_create(), mentee=mentee, score=1)


def test_a_mentee_shares_an_accepted_case_once(coord):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    match = accepted_case(attorney=accepted.mentee, coordinator=coord)
    first = case_share(match=match, user=accepted.mentee.user)
    again = case_share(match=match, user=accepted.mentee.user)
    assert first.pk == again.pk and CaseShare.objects.count() == 1
    assert DomainEvent.objects.filter(verb="mentorship.case_shared").count() == 1


def test_nobody_shares_another_attorneys_case(coord, att_b):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    match = accepted_case(attorney=accepted.mentee, coordinator=coord)
    for user in (att_b.user, accepted.mentor.user):
        with pytest.raises(MentoringError) as refused:
            case_share(match=match, user=user)
        assert refused.value.code == "not_your_case"
    assert not CaseShare.objects.exists()


def test_no_sharing_without_an_accepted_mentor(coord):
    offered = mentorship_offered(mentor=mentor_create(), mentee=mentee_create(), coordinator=coord)
    match = accepted_case(attorney=offered.mentee, coordinator=coord)
    with pytest.raises(MentoringError) as refused:
        case_share(match=match, user=offered.mentee.user)
    assert refused.value.code == "no_mentor"


def test_only_the_mentor_attests_on_a_share(coord, att_b):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    share = case_share(
        match=accepted_case(attorney=accepted.mentee, coordinator=coord), user=accepted.mentee.user
    )
    with pytest.raises(MentoringError):
        case_share_attest(share=share, user=att_b.user)
    assert case_share_attest(share=share, user=accepted.mentor.user).conflict_attested_at


def test_events_carry_ids_only(coord):
    mentee = mentee_create(note="Secret-note-text")
    mentorship_accepted(mentor=mentor_create(), mentee=mentee, coordinator=coord)
    logged = repr(list(DomainEvent.objects.values_list("data", flat=True)))
    assert "Secret-note-text" not in logged


def test_an_offer_not_yet_accepted_cannot_be_shared(coord):
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    offered = offer_create(attorney=accepted.mentee, coordinator=coord)
    with pytest.raises(MentoringError) as refused:
        case_share(match=offered, user=accepted.mentee.user)
    assert refused.value.code == "not_accepted"
    assert not CaseShare.objects.exists()


def test_a_mentor_whose_mentorship_ended_cannot_attest_to_see_the_record(coord):
    """The attestation opens the full record to the mentor: not after the mentorship ended."""
    accepted = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    share = case_share(
        match=accepted_case(attorney=accepted.mentee, coordinator=coord),
        user=accepted.mentee.user,
    )
    mentorship_end(mentorship=accepted, user=accepted.mentee.user)
    with pytest.raises(MentoringError) as refused:
        case_share_attest(share=share, user=accepted.mentor.user)
    assert refused.value.code == "not_accepted"
    share.refresh_from_db()
    assert share.conflict_attested_at is None


def test_an_offer_the_mentor_answered_before_its_email_is_not_mailed(coord):
    """The e-mail task runs after commit, maybe late: an offer declined by then is not sent."""
    offered = mentorship_offered(mentor=mentor_create(), mentee=mentee_create(), coordinator=coord)
    mentorship_decline(mentorship=offered, user=offered.mentor.user)
    mail.outbox.clear()
    assert mentorship_offer_notify(mentorship_id=offered.pk) is False
    assert mail.outbox == []


def test_preferences_that_fail_half_way_change_nothing(monkeypatch):
    mentor = mentor_create(capacity=2)

    def fail(**kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(services, "event_record", fail)
    with pytest.raises(RuntimeError):
        mentoring_preferences_set(
            attorney=mentor, wants_mentor=True, request_note="", mentee_capacity=4
        )
    profile = MentoringProfile.objects.get(attorney=mentor)
    assert (profile.mentee_capacity, profile.wants_mentor) == (2, False)
