"""The pledge invariants live in the database: these inserts bypass pledge_submit on purpose."""

import pytest
from django.db import IntegrityError, transaction

from pledges.models import OrganizationManager, Pledge
from tests.factories import OrganizationFactory, PledgeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_rejects_a_second_live_pledge_from_one_organization_email_and_kind():
    first = PledgeFactory(contact_email="pat@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        PledgeFactory(organization=first.organization, contact_email="PAT@example.org")
    assert Pledge.objects.count() == 1


def test_it_allows_a_new_pledge_once_the_old_one_was_withdrawn():
    first = PledgeFactory(contact_email="pat@example.org", status=Pledge.Status.WITHDRAWN)
    PledgeFactory(organization=first.organization, contact_email="pat@example.org")
    assert Pledge.objects.count() == 2


def test_it_rejects_a_pledge_of_nothing():
    pledge = PledgeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(amount=0)


def test_it_rejects_a_second_manager_row_for_one_user_and_organization():
    """A claim sent twice finds its row (organization_manager_claim's get_or_create): a second
    row would let one approval leave another pending, or the reverse."""
    user, organization = UserFactory(), OrganizationFactory()
    OrganizationManager.objects.create(user=user, organization=organization)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationManager.objects.create(user=user, organization=organization)
    assert OrganizationManager.objects.count() == 1
