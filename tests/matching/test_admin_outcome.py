"""A coordinator records how an accepted case ended, from the match's admin page, through
match_case_close: permission-checked, audited, and a mistake comes back next to its field."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching.models import Match
from tests.conftest import _with_totp
from tests.factories import UserFactory
from tests.matching.checkins import accepted_case
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(att_a, coord):
    return accepted_case(attorney=att_a, coordinator=coord, days_ago=30)


def _url(match) -> str:
    return reverse("admin:matching_match_outcome", args=[match.pk])


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


def _state(match) -> tuple:
    case = CaseRequest.objects.get(pk=match.case_id)
    slots = AttorneyProfile.objects.get(pk=match.attorney_id).active_cases
    status = Match.objects.get(pk=match.pk).status
    return status, case.status, case.outcome, case.relief_type, slots


def test_the_match_page_offers_the_outcome_for_an_accepted_case(client, coord, accepted):
    client.force_login(coord)
    page = client.get(reverse("admin:matching_match_change", args=[accepted.pk]))
    assert _url(accepted) in page.content.decode()


def test_a_coordinator_closes_the_case_with_relief_granted(client, coord, accepted):
    client.force_login(coord)
    data = {"outcome": "relief_granted", "relief_type": "asylum", "outcome_date": _yesterday()}
    response = client.post(_url(accepted), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:matching_match_change", args=[accepted.pk]
    )
    assert "closed: Relief granted (Asylum)" in response.content.decode()
    assert _state(accepted) == ("completed", "closed", "relief_granted", "asylum", 0)
    event = DomainEvent.objects.get(verb="case.closed")
    assert (event.actor_id, event.data["outcome"]) == (coord.pk, "relief_granted")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"outcome": "relief_granted"}, "relief_type", "Say which relief was granted."),
        ({"outcome": "termination", "relief_type": "asylum"}, "relief_type", "relief granted only"),
        ({"outcome": "termination", "outcome_date": "2099-01-01"}, "outcome_date", "future"),
        ({"outcome": "termination", "outcome_date": "2000-01-01"}, "outcome_date", "before"),
        ({"outcome": "", "outcome_date": "2000-01-01"}, "outcome", "required"),
        ({"outcome": "termination", "outcome_date": ""}, "outcome_date", "required"),
        ({"outcome": "nonsense"}, "outcome", "Select a valid choice"),
    ],
)
def test_bad_input_comes_back_as_a_form_error_and_writes_nothing(
    client, coord, accepted, data, field, message
):
    client.force_login(coord)
    response = client.post(_url(accepted), {"outcome_date": _yesterday(), **data})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert _state(accepted) == ("accepted", "represented", "", "", 1)
    assert not DomainEvent.objects.filter(verb="case.closed").exists()


def test_staff_without_the_coordinator_permission_cannot_record_it(client, accepted):
    viewer = _with_totp(UserFactory(is_staff=True))
    viewer.user_permissions.add(Permission.objects.get(codename="view_match"))
    client.force_login(viewer)
    data = {"outcome": "termination", "outcome_date": _yesterday()}
    assert client.get(_url(accepted)).status_code == 403
    assert client.post(_url(accepted), data).status_code == 403
    assert _state(accepted) == ("accepted", "represented", "", "", 1)


def test_a_match_not_accepted_has_no_outcome_page(client, coord, att_b):
    from tests.volunteers.offers import offer_create

    offered = offer_create(attorney=att_b, coordinator=coord)
    client.force_login(coord)
    assert client.get(_url(offered)).status_code == 404
    page = client.get(reverse("admin:matching_match_change", args=[offered.pk]))
    assert _url(offered) not in page.content.decode()


def test_a_closed_case_cannot_be_closed_twice(client, coord, accepted):
    client.force_login(coord)
    data = {"outcome": "termination", "outcome_date": _yesterday()}
    client.post(_url(accepted), data)
    assert client.post(_url(accepted), data).status_code == 404
    assert DomainEvent.objects.filter(verb="case.closed").count() == 1
