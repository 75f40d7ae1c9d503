from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from pledges.models import Pledge
from tests.factories import AttorneyFactory, MatchFactory, PledgeFactory
from volunteers.models import (
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    CalendarFeed,
    CaseHours,
    Organization,
    PracticeArea,
)

pytestmark = pytest.mark.django_db


def test_it_rejects_an_active_case_counter_above_capacity():  # REL-4, direct insert
    attorney = AttorneyFactory(capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AttorneyProfile.objects.filter(pk=attorney.pk).update(active_cases=3)
    attorney.refresh_from_db()
    assert attorney.active_cases == 0


def test_it_allows_the_counter_to_reach_capacity():
    attorney = AttorneyFactory(capacity=2)
    AttorneyProfile.objects.filter(pk=attorney.pk).update(active_cases=2)
    attorney.refresh_from_db()
    assert attorney.free_capacity == 0


def test_it_rejects_lowering_capacity_below_active_cases():
    attorney = AttorneyFactory(capacity=3)
    AttorneyProfile.objects.filter(pk=attorney.pk).update(active_cases=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        AttorneyProfile.objects.filter(pk=attorney.pk).update(capacity=1)


def test_it_rejects_a_duplicate_language_for_an_attorney():
    attorney = AttorneyFactory(languages={"spa": 3})
    with pytest.raises(IntegrityError), transaction.atomic():
        AttorneyLanguage.objects.create(attorney=attorney, language_id="spa", proficiency=4)
    assert attorney.language_skills.count() == 1


def test_it_rejects_organizations_differing_only_in_case():
    Organization.objects.create(name="Legal Aid of Texas", kind="nonprofit")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(name="LEGAL AID OF TEXAS", kind="nonprofit")


def test_it_rejects_a_pledge_period_that_ends_before_it_starts():
    pledge = PledgeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(period_end=pledge.period_start)


# Each below was dropped from a test database in turn, and nothing else failed.


@pytest.mark.parametrize(
    "values",
    [
        {"capacity": 51},  # attorney_capacity_sane
        {"latitude": 90.5},  # attorney_coordinates_in_range
        {"longitude": 180.5},
        {"remote_ok": False, "remote_preferred": True},  # attorney_remote_preferred_is_remote
    ],
)
def test_it_rejects_an_attorney_profile_no_form_would_write(values):
    attorney = AttorneyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AttorneyProfile.objects.filter(pk=attorney.pk).update(**values)


def test_it_rejects_a_second_profile_for_one_user():
    attorney = AttorneyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AttorneyFactory(user=attorney.user)
    assert AttorneyProfile.objects.count() == 1


@pytest.mark.parametrize("proficiency", [0, 5])
def test_it_rejects_an_unknown_proficiency(proficiency):
    attorney = AttorneyFactory(languages={"spa": 3})
    with pytest.raises(IntegrityError), transaction.atomic():
        attorney.language_skills.update(proficiency=proficiency)


def test_it_rejects_two_admissions_in_one_jurisdiction():
    attorney = AttorneyFactory()
    BarAdmission.objects.create(attorney=attorney, jurisdiction="NY", bar_number="1234567")
    with pytest.raises(IntegrityError), transaction.atomic():
        BarAdmission.objects.create(attorney=attorney, jurisdiction="NY", bar_number="7654321")
    assert attorney.bar_admissions.count() == 1


def test_it_rejects_a_case_type_twice_in_one_attorneys_practice():
    attorney = AttorneyFactory(practice_areas=["asylum"])
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeArea.objects.create(attorney=attorney, case_type_id="asylum", cases_handled=9)
    assert attorney.practice_area_links.count() == 1


@pytest.mark.parametrize("hours", ["0", "24.1"])
def test_it_rejects_hours_a_day_cannot_hold(hours):
    """The pledge wall shows these hours publicly (case_hours_in_a_day)."""
    match = MatchFactory(status="accepted")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseHours.objects.create(match=match, hours=Decimal(hours), worked_on=date(2026, 1, 5))
    assert not CaseHours.objects.exists()


def test_it_rejects_two_calendar_feeds_with_one_token():
    """The feed finds its attorney by the token's hash: two rows under one hash would send one
    attorney's hearings to another's calendar."""
    CalendarFeed.objects.create(attorney=AttorneyFactory(), token_hash="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(attorney=AttorneyFactory(), token_hash="a" * 64)
    assert CalendarFeed.objects.count() == 1


def test_it_rejects_a_second_calendar_feed_for_one_attorney():
    """A new link replaces the row, so the old URL stops working: a second row would keep it."""
    attorney = AttorneyFactory()
    CalendarFeed.objects.create(attorney=attorney, token_hash="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(attorney=attorney, token_hash="b" * 64)
    assert CalendarFeed.objects.count() == 1
