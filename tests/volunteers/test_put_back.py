"""Putting an accepted case back (issue 13): before the deadline only, by its attorney only."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching.models import Match
from matching.services import (
    MatchError,
    match_accept,
    match_attest_no_conflict,
    match_put_back,
    match_put_back_deadline_set,
)
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db
REASON = "A new conflict came up at my firm."


@pytest.fixture
def accepted(att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    return match_accept(match=match, user=att_a.user)


def _url(match):
    return reverse("volunteers:case_put_back", args=[match.pk])


def test_accepting_opens_a_put_back_window_of_the_configured_days(accepted, settings):
    expected = accepted.responded_at + timedelta(days=settings.MATCH_PUT_BACK_DAYS)
    assert accepted.put_back_until == expected


def test_the_case_page_offers_put_back_with_its_deadline(client, att_a, accepted):
    client.force_login(att_a.user)
    page = client.get(reverse("volunteers:case", args=[accepted.pk])).content
    assert b'data-form="put-back"' in page and b"data-put-back-until" in page


def test_put_back_before_the_deadline_returns_the_case_to_the_pool(client, att_a, accepted):
    client.force_login(att_a.user)
    response = client.post(_url(accepted), {"reason": REASON})
    assert response.status_code == 302 and response.url == reverse("volunteers:dashboard")
    accepted.refresh_from_db()
    assert accepted.status == Match.Status.RETURNED
    assert accepted.put_back_reason == REASON
    assert CaseRequest.objects.get(pk=accepted.case_id).status == CaseRequest.Status.OPEN
    assert AttorneyProfile.objects.get(pk=att_a.pk).active_cases == 0
    event = DomainEvent.objects.get(verb="match.put_back")
    assert event.actor == att_a.user and REASON not in str(event.data)  # free text stays out
    # The case page is closed now: the record went back with the case.
    assert client.get(reverse("volunteers:case", args=[accepted.pk])).status_code == 404


def test_put_back_after_the_deadline_is_refused_with_a_message(client, att_a, accepted, coord):
    match_put_back_deadline_set(
        match=accepted, until=timezone.now() - timedelta(minutes=1), actor=coord
    )
    client.force_login(att_a.user)
    page = client.get(reverse("volunteers:case", args=[accepted.pk])).content
    assert b'data-state="put-back-closed"' in page
    response = client.post(_url(accepted), {"reason": REASON}, follow=True)
    assert b"The deadline to put this case back has passed" in response.content
    accepted.refresh_from_db()
    assert accepted.status == Match.Status.ACCEPTED


def test_a_coordinator_can_reopen_the_window(accepted, coord, att_a):
    match_put_back_deadline_set(match=accepted, until=timezone.now(), actor=coord)
    match_put_back_deadline_set(
        match=accepted, until=timezone.now() + timedelta(days=3), actor=coord
    )
    assert match_put_back(match=accepted, user=att_a.user, reason=REASON).status == "returned"


def test_only_a_coordinator_moves_the_deadline(accepted, att_a):
    with pytest.raises(MatchError) as refused:
        match_put_back_deadline_set(match=accepted, until=timezone.now(), actor=att_a.user)
    assert refused.value.code == "not_permitted"


def test_another_attorney_gets_a_404_and_nothing_changes(client, att_b, accepted):
    client.force_login(att_b.user)
    assert client.post(_url(accepted), {"reason": REASON}).status_code == 404
    accepted.refresh_from_db()
    assert accepted.status == Match.Status.ACCEPTED


def test_a_missing_reason_is_the_case_page_again_with_the_form_error(client, att_a, accepted):
    client.force_login(att_a.user)
    response = client.post(_url(accepted), {"reason": "  "})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    accepted.refresh_from_db()
    assert accepted.status == Match.Status.ACCEPTED


def test_put_back_needs_post_and_csrf(att_a, accepted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    assert client.get(_url(accepted)).status_code == 405
    assert client.post(_url(accepted), {"reason": REASON}).status_code == 403
    accepted.refresh_from_db()
    assert accepted.status == Match.Status.ACCEPTED


def test_the_coordinator_home_counts_put_backs(client, coord, att_a, accepted):
    match_put_back(match=accepted, user=att_a.user, reason=REASON)
    from core.selectors import coordinator_worklist

    assert coordinator_worklist().put_back_since_yesterday == 1
