import pytest
from django.db import IntegrityError, transaction

from pledges.models import Pledge
from tests.factories import AttorneyFactory, PledgeFactory
from volunteers.models import AttorneyLanguage, AttorneyProfile, Organization

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
