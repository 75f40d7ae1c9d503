"""Case request cast: coordinators with and without identifier access, partner staff of X and Y."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseRequest
from cases.services import (
    case_request_create,
    case_request_submit_by_partner,
    partner_membership_set,
)
from core.roles import coordinator_group_sync, identifier_viewers_group_sync
from tests.factories import OrganizationFactory, UserFactory

NAME = "Maria Tzul Ixcoy"
A_NUMBER = "A-087-654-321"
CANONICAL = "087654321"


def case_data(**overrides):
    """Raw intake input that passes validation (strings and codes, as an import row has)."""
    today = timezone.localdate()
    data = {
        "respondent_name": NAME,
        "a_number": A_NUMBER,
        "contact_route": "Call the clinic at 555-0100",
        "country_of_nationality": "GT",
        "language": "mam",
        "other_languages": "spa",
        "relay_interpreter_ok": "yes",
        "relay_language": "spa",
        "court": "new-york-city",
        "case_type": "asylum",
        "detained": "no",
        "detention_facility": "",
        "remote_ok": "no",
        "next_hearing_date": (today + timedelta(days=10)).isoformat(),
        "next_hearing_type": "master",
        "filing_deadline": (today + timedelta(days=100)).isoformat(),
        "summary": "Asylum claim.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def coord_viewer(coord):
    """A coordinator who may also see identifiers."""
    coord.groups.add(identifier_viewers_group_sync())
    return type(coord).objects.get(pk=coord.pk)  # fresh permission cache


@pytest.fixture
def granter(db):
    """A coordinator who may see identifiers, apart from `coord`: grants partner access."""
    user = UserFactory(username="coord-granter@example.org", is_staff=True)
    user.groups.add(coordinator_group_sync(), identifier_viewers_group_sync())
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def org_x(db):
    return OrganizationFactory(name="Clinic X")


@pytest.fixture
def org_y(db):
    return OrganizationFactory(name="Clinic Y")


@pytest.fixture
def partner_x(org_x, granter):
    user = UserFactory(username="partner-x@example.org")
    partner_membership_set(user=user, organization=org_x, actor=granter)
    return user


@pytest.fixture
def partner_y(org_y, granter):
    user = UserFactory(username="partner-y@example.org")
    partner_membership_set(user=user, organization=org_y, actor=granter)
    return user


@pytest.fixture
def case_x(partner_x, org_x):
    return case_request_create(
        data=case_data(),
        created_by=partner_x,
        source=CaseRequest.Source.PARTNER,
        organization=org_x,
    )


@pytest.fixture
def case_y(partner_y, org_y):
    return case_request_create(
        data=case_data(respondent_name="Other Person", a_number="A-011-222-333"),
        created_by=partner_y,
        source=CaseRequest.Source.PARTNER,
        organization=org_y,
    )


def held_request_submit(partner):
    """The partner records case_y's A-number again: the request is held for review (#5)."""
    held, _ = case_request_submit_by_partner(
        data=case_data(a_number="A-011-222-333"),
        created_by=partner,
        organization=partner.partner_membership.organization,
    )
    return held


@pytest.fixture
def held(partner_x, case_y):
    return held_request_submit(partner_x)
