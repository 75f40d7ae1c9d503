"""The case invariants live in the database: these writes bypass every service and form on
purpose. Each was dropped from a test database in turn, and nothing else failed."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from cases.models import CaseRequest, ImmigrationCourt, PartnerMembership
from tests.factories import CaseRequestFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

Outcome, Relief = CaseRequest.Outcome, CaseRequest.Relief


def _refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_it_rejects_two_cases_with_one_reference():
    """The reference is what emails, events and the purge name a case by."""
    first = CaseRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseRequestFactory(reference=first.reference)
    assert CaseRequest.objects.count() == 1


@pytest.mark.parametrize(
    "values",
    [
        {"outcome": Outcome.TERMINATION},  # no date
        {"outcome": "", "outcome_date": date(2026, 1, 5)},  # a date without an outcome
    ],
)
def test_it_rejects_an_outcome_without_its_date(values):
    _refused(CaseRequest.objects.filter(pk=CaseRequestFactory().pk), **values)


@pytest.mark.parametrize(
    "values",
    [
        {"outcome": Outcome.RELIEF_GRANTED, "relief_type": ""},
        {"outcome": Outcome.REMOVAL_ORDERED, "relief_type": Relief.ASYLUM},
    ],
)
def test_it_rejects_a_relief_type_that_does_not_go_with_the_outcome(values):
    case = CaseRequestFactory()
    _refused(CaseRequest.objects.filter(pk=case.pk), outcome_date=date(2026, 1, 5), **values)


def test_it_accepts_relief_granted_with_its_type_and_date():
    case = CaseRequestFactory()
    CaseRequest.objects.filter(pk=case.pk).update(
        outcome=Outcome.RELIEF_GRANTED, relief_type=Relief.ASYLUM, outcome_date=date(2026, 1, 5)
    )
    case.refresh_from_db()
    assert case.relief_type == Relief.ASYLUM


def test_it_rejects_a_relay_interpreter_without_the_language_to_bridge_to():
    case = CaseRequestFactory()
    _refused(CaseRequest.objects.filter(pk=case.pk), relay_interpreter_ok=True)
    CaseRequest.objects.filter(pk=case.pk).update(relay_interpreter_ok=True, relay_language="spa")


def test_it_rejects_two_courts_with_one_code():
    court = ImmigrationCourt.objects.get(code="new-york-city")
    court.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        court.save()


@pytest.mark.parametrize("values", [{"latitude": 91}, {"longitude": -181}])
def test_it_rejects_a_court_off_the_map(values):
    _refused(ImmigrationCourt.objects.filter(code="new-york-city"), **values)


def test_it_rejects_a_second_partner_membership_for_one_user():
    """A partner's staff member acts for exactly one organization (the intake views scope to
    it): a second row would leave which one to chance."""
    user = UserFactory()
    PartnerMembership.objects.create(user=user, organization=OrganizationFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerMembership.objects.create(user=user, organization=OrganizationFactory())
    assert PartnerMembership.objects.filter(user=user).count() == 1
