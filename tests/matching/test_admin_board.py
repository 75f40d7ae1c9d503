"""The review queue and the opportunity board (issue 13): requests flagged and filterable,
put-back deadlines moved by coordinators through the service."""

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching.models import Match
from matching.services import match_accept, match_attest_no_conflict, match_request_by_attorney
from tests.factories import CaseRequestFactory
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:matching_match_changelist")


def _requested(attorney):
    case = CaseRequest.objects.select_related("court").get(pk=CaseRequestFactory().pk)
    return match_request_by_attorney(case=case, attorney=attorney)


def test_the_queue_shows_and_filters_requests_by_attorneys(client, coord, att_a, att_b):
    requested = _requested(att_a)
    from_run = offer_create(attorney=att_b, coordinator=coord)
    client.force_login(coord)
    page = client.get(CHANGELIST, {"status": "all", "source__exact": "attorney"}).content.decode()
    assert requested.case.reference in page and "Requested by attorney" in page
    assert from_run.case.reference not in page


def test_the_coordinator_home_counts_requests_awaiting_review(client, coord, att_a):
    _requested(att_a)
    client.force_login(coord)
    page = client.get(reverse("admin:index")).content.decode()
    assert "source__exact=attorney" in page
    assert "requested by attorneys" in page


@pytest.fixture
def accepted(att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    return match_accept(match=match, user=att_a.user)


def _act(client, action, match):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [match.pk], "index": 0}
    return client.post(CHANGELIST + "?status=accepted", data, follow=True)


def test_close_and_reopen_the_put_back_window_from_the_queue(client, coord, accepted):
    client.force_login(coord)
    _act(client, "put_back_close_selected", accepted)
    accepted.refresh_from_db()
    assert accepted.put_back_until <= timezone.now()
    response = _act(client, "put_back_extend_selected", accepted)
    assert b"may be put back until" in response.content
    accepted.refresh_from_db()
    assert accepted.put_back_until > timezone.now() + timedelta(days=6)
    assert DomainEvent.objects.filter(verb="match.put_back_deadline_set").count() == 2


def test_a_put_back_action_on_a_match_not_accepted_is_refused(client, coord, att_b):
    offer = offer_create(attorney=att_b, coordinator=coord)
    client.force_login(coord)
    response = client.post(
        CHANGELIST + "?status=all",
        {"action": "put_back_extend_selected", helpers.ACTION_CHECKBOX_NAME: [offer.pk]},
        follow=True,
    )
    assert b"could not be: Only an accepted case has a put-back deadline (1)." in response.content
    offer.refresh_from_db()
    assert offer.put_back_until is None
    assert Match.objects.filter(pk=offer.pk, status="offered").exists()
