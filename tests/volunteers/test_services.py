from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from core.models import DomainEvent
from matching.models import Match
from matching.services import match_approve, match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory, UserFactory
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyLanguage, AttorneyProfile, BarAdmission, Organization
from volunteers.services import (
    AccountDeleteBlocked,
    Admission,
    AttorneyError,
    attorney_account_delete,
    attorney_availability_set,
    attorney_bar_admissions_set,
    attorney_languages_set,
    attorney_organization_set,
    attorney_profile_update,
    attorney_reject,
    attorney_verify,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

ABOUT = {
    "first_name": "Ana",
    "last_name": "Lawyer",
    "phone": "212-555-0100",
    "home_zip": "10001",
    "travel_radius_miles": 30,
}


def test_the_first_step_creates_a_pending_profile_located_by_zip():
    user = UserFactory()
    attorney = attorney_profile_update(user=user, **ABOUT)
    assert attorney.verification == AttorneyProfile.Verification.PENDING
    assert 40 < attorney.latitude < 41 and -75 < attorney.longitude < -73
    assert DomainEvent.objects.filter(verb="attorney.created", target_id=str(attorney.pk)).exists()


def test_it_rejects_an_unknown_zip_and_saves_nothing():
    user = UserFactory()
    with pytest.raises(AttorneyError) as error:
        attorney_profile_update(user=user, **{**ABOUT, "home_zip": "00000"})
    assert error.value.code == "unknown_zip"
    assert not AttorneyProfile.objects.filter(user=user).exists()


def test_it_requires_an_active_bar_admission(att_new):
    before = list(att_new.bar_admissions.values_list("jurisdiction", flat=True))
    with pytest.raises(AttorneyError) as error:
        attorney_bar_admissions_set(
            attorney=att_new, admissions=[Admission("NY", "12345", BarAdmission.Status.INACTIVE)]
        )
    assert error.value.code == "no_active_admission"
    assert list(att_new.bar_admissions.values_list("jurisdiction", flat=True)) == before


def test_a_verified_attorney_whose_admissions_change_is_pending_again(att_a):
    attorney_bar_admissions_set(attorney=att_a, admissions=[Admission("CA", "99", "active")])
    att_a.refresh_from_db()
    assert att_a.verification == AttorneyProfile.Verification.PENDING


def test_it_rejects_a_duplicate_language(att_a):
    with pytest.raises(AttorneyError) as error:
        attorney_languages_set(attorney=att_a, skills=[("spa", 4), ("spa", 2)])
    assert error.value.code == "duplicate_language"
    assert AttorneyLanguage.objects.filter(attorney=att_a).count() == 2  # eng + spa, unchanged


@pytest.mark.parametrize("capacity", [0, 51, 500])
def test_it_rejects_a_capacity_out_of_range(att_a, capacity):
    with pytest.raises(AttorneyError) as error:
        attorney_availability_set(attorney=att_a, capacity=capacity, paused_until=None)
    assert error.value.code == "capacity_range"


def test_capacity_cannot_drop_below_the_cases_carried(att_a, coord):
    offer_create(attorney=att_a, coordinator=coord)
    offer_create(attorney=att_a, coordinator=coord)
    with pytest.raises(AttorneyError) as error:
        attorney_availability_set(attorney=att_a, capacity=1, paused_until=None)
    assert error.value.code == "capacity_below_active"


def test_naming_a_new_organization_leaves_it_for_a_coordinator_to_confirm(att_a):
    attorney_organization_set(
        attorney=att_a, organization=None, new_name="Pine  & Oak LLP", eoir_id=""
    )
    org = Organization.objects.get(name="Pine & Oak LLP")
    assert not org.confirmed
    att_a.refresh_from_db()
    assert att_a.organization == org


@pytest.fixture
def no_run_requests(settings):
    """Count only the email's callbacks: the matching-run request a verification also makes is
    tested in tests/matching/test_run_triggers.py."""
    settings.MATCHING_RUN_ON_CHANGE = False


def test_verifying_records_an_event_and_mails_the_attorney_after_commit(
    att_new, coord, celery_eager, django_capture_on_commit_callbacks, no_run_requests
):
    BarAdmission.objects.create(attorney=att_new, jurisdiction="NY", bar_number="1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        attorney_verify(attorney=att_new, actor=coord)
    att_new.refresh_from_db()
    assert att_new.verification == AttorneyProfile.Verification.VERIFIED
    assert len(callbacks) == 1  # REL-1: enqueued once, after commit
    assert len(mail.outbox) == 1
    assert "verified" in mail.outbox[0].subject
    assert mail.outbox[0].alternatives  # text and HTML
    assert DomainEvent.objects.filter(verb="attorney.verified", actor=coord).count() == 1


def test_verifying_twice_mails_once(
    att_new, coord, django_capture_on_commit_callbacks, no_run_requests
):
    BarAdmission.objects.create(attorney=att_new, jurisdiction="NY", bar_number="1")
    with django_capture_on_commit_callbacks() as callbacks:
        attorney_verify(attorney=att_new, actor=coord)
        attorney_verify(attorney=att_new, actor=coord)
    assert len(callbacks) == 1


def test_a_rolled_back_verification_enqueues_nothing(
    att_new, coord, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(AttorneyError):
        attorney_verify(attorney=att_new, actor=coord)  # no active admission on file
    assert callbacks == []


def test_rejecting_sends_the_rejection_email(
    att_new, coord, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attorney_reject(attorney=att_new, actor=coord)
    assert "could not verify" in mail.outbox[0].subject


def test_deleting_the_account_anonymises_and_keeps_history(att_a, coord):  # SEC-25
    from matching.services import match_decline

    user = att_a.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    BarAdmission.objects.create(attorney=att_a, jurisdiction="NY", bar_number="4242")
    declined_earlier = offer_create(attorney=att_a, coordinator=coord)
    match_decline(match=declined_earlier, user=user, reason="language")
    AttorneyProfile.objects.filter(pk=att_a.pk).update(capacity=3)
    proposal = match_propose(case=CaseRequestFactory(), attorney=att_a, score=10, breakdown={})
    attorney_account_delete(user=user)
    user.refresh_from_db()
    att_a.refresh_from_db()
    assert user.username.startswith("deleted-") and user.email == ""
    assert (user.first_name, user.last_name, user.is_active) == ("", "", False)
    assert not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert (att_a.phone, att_a.eoir_id, att_a.home_zip) == ("", "", "00000")
    assert not att_a.bar_admissions.exists()
    assert Match.objects.filter(attorney=att_a).count() == 2  # aggregate history kept
    assert Match.objects.get(pk=proposal.pk).status == Match.Status.WITHDRAWN
    assert att_a.active_cases == 0


def test_deleting_the_account_removes_its_authenticators(att_a):  # SEC-25
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(att_a.user, generate_totp_secret())
    attorney_account_delete(user=att_a.user)
    assert not Authenticator.objects.filter(user=att_a.user).exists()


def test_a_proposal_the_attorney_cannot_see_does_not_block_deletion(att_a, coord):
    """It is withdrawn through the matching service and its case goes back to matching."""
    approved = match_propose(case=CaseRequestFactory(), attorney=att_a, score=10, breakdown={})
    match_approve(match=approved, actor=coord)
    attorney_account_delete(user=att_a.user)
    approved.refresh_from_db()
    assert approved.status == Match.Status.WITHDRAWN
    assert approved.case.status == "open"
    assert DomainEvent.objects.filter(verb="match.withdrawn", target_id=str(approved.pk)).exists()
    assert not User.objects.get(pk=att_a.user.pk).is_active


def test_an_open_offer_blocks_deletion_and_is_listed(att_a, coord):
    offer = offer_create(attorney=att_a, coordinator=coord)
    with pytest.raises(AccountDeleteBlocked) as error:
        attorney_account_delete(user=att_a.user)
    assert error.value.code == "has_active_cases"
    assert [m.pk for m in error.value.matches] == [offer.pk]
    offer.refresh_from_db()
    assert offer.status == Match.Status.OFFERED and User.objects.get(pk=att_a.user.pk).is_active


def test_an_attorney_with_an_accepted_case_cannot_delete_yet(att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    with pytest.raises(AttorneyError) as error:
        attorney_account_delete(user=att_a.user)
    assert error.value.code == "has_active_cases"
    att_a.user.refresh_from_db()
    assert att_a.user.is_active


def test_a_pause_in_the_past_is_refused_and_nothing_is_stored(att_a):
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(AttorneyError) as error:
        attorney_availability_set(attorney=att_a, capacity=2, paused_until=yesterday)
    assert error.value.code == "pause_in_past"
    att_a.refresh_from_db()
    assert att_a.paused_until is None


def test_factory_attorneys_are_verified():
    assert AttorneyFactory().verification == "verified"
