"""Hours an attorney logs on an accepted case (they count toward the organization's pledges)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import DomainEvent
from tests.factories import OrganizationFactory, PledgeFactory
from tests.volunteers.offers import offer_create
from volunteers.models import CaseHours

pytestmark = pytest.mark.django_db
WALL = reverse("pledges:wall")


@pytest.fixture
def accepted(att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict
    from volunteers.services import attorney_organization_set

    organization = OrganizationFactory()
    attorney_organization_set(attorney=att_a, organization=organization, new_name="", eoir_id="")
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    return match_accept(match=match, user=att_a.user)


def test_the_attorney_logs_hours_and_the_hours_pledge_progresses(client, att_a, accepted):
    att_a.refresh_from_db()
    pledge = PledgeFactory(kind="hours", amount=10, organization=att_a.organization)
    client.force_login(att_a.user)
    url = reverse("volunteers:case_hours", args=[accepted.pk])
    response = client.post(url, {"hours": "2.5", "worked_on": "2026-11-01"})
    assert response.status_code == 302
    assert CaseHours.objects.get().hours == Decimal("2.5")
    assert DomainEvent.objects.filter(verb="case.hours_logged", actor=att_a.user).count() == 1
    case_page = client.get(reverse("volunteers:case", args=[accepted.pk])).content.decode()
    assert 'data-hours-total="2.5"' in case_page
    client.logout()
    body = client.get(WALL).content.decode()
    assert f'data-pledge="{pledge.pk}"' in body and 'data-hours="2"' in body


def test_another_attorney_cannot_log_hours_on_the_case(client, att_b, accepted):  # SEC-12
    client.force_login(att_b.user)
    url = reverse("volunteers:case_hours", args=[accepted.pk])
    assert client.post(url, {"hours": "2", "worked_on": "2026-11-01"}).status_code == 404
    assert CaseHours.objects.count() == 0


def test_future_or_absurd_hours_are_refused(client, att_a, accepted):
    client.force_login(att_a.user)
    url = reverse("volunteers:case_hours", args=[accepted.pk])
    for data in (
        {"hours": "25", "worked_on": "2026-11-01"},
        {"hours": "2", "worked_on": "2099-01-01"},
    ):
        assert client.post(url, data).status_code == 302
    assert CaseHours.objects.count() == 0
