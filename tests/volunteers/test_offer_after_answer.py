"""The offer link keeps working after the attorney answered (issue 12, item 6).

The e-mailed link and the Back button after accepting open the offer's outcome for the attorney
who answered it; anyone else still gets 404 (SEC-12), and a proposal never offered stays hidden.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match
from matching.services import (
    match_accept,
    match_attest_no_conflict,
    match_decline,
    match_propose,
    match_reject,
    match_withdraw_for_case,
)
from tests.factories import CaseRequestFactory
from tests.volunteers.offers import RESPONDENT_NAME, offer_create

pytestmark = pytest.mark.django_db


def _offer_url(match):
    return reverse("volunteers:offer", args=[match.pk])


def test_after_accepting_the_offer_link_opens_the_case_page(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    client.force_login(att_a.user)
    response = client.get(_offer_url(match))
    assert response.status_code == 302
    assert response.url == reverse("volunteers:case", args=[match.pk])


def test_after_declining_the_offer_link_says_so_and_when(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_decline(match=match, user=att_a.user, reason="distance")
    client.force_login(att_a.user)
    response = client.get(_offer_url(match))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="declined"' in html and "You declined this offer." in html
    assert "Distance" in html and timezone.localdate().strftime("%Y") in html
    assert "Accept this case" not in html and RESPONDENT_NAME not in html  # SEC-15


def test_an_offer_past_its_deadline_reads_as_expired_before_the_task_runs(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    Match.objects.filter(pk=match.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(att_a.user)
    html = client.get(_offer_url(match)).content.decode()
    assert 'data-outcome="expired"' in html and "expired without an answer" in html


def test_a_withdrawn_case_closes_the_offer_with_a_message(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_withdraw_for_case(case=match.case, actor=coord)
    client.force_login(att_a.user)
    html = client.get(_offer_url(match)).content.decode()
    assert 'data-outcome="withdrawn"' in html and "The case was withdrawn" in html


def test_an_offer_a_coordinator_rejected_says_it_was_withdrawn(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    match_reject(match=match, actor=coord, reason="Court date moved")
    client.force_login(att_a.user)
    html = client.get(_offer_url(match)).content.decode()
    assert 'data-outcome="rejected"' in html and "Court date moved" not in html


def test_another_attorney_still_gets_404_after_the_answer(client, att_a, att_b, coord):  # SEC-12
    match = offer_create(attorney=att_a, coordinator=coord)
    match_decline(match=match, user=att_a.user, reason="distance")
    client.force_login(att_b.user)
    assert client.get(_offer_url(match)).status_code == 404


def test_a_proposal_never_offered_stays_404_even_once_rejected(client, att_a, coord):  # SEC-11
    proposal = match_propose(case=CaseRequestFactory(), attorney=att_a, score=10, breakdown={})
    client.force_login(att_a.user)
    assert client.get(_offer_url(proposal)).status_code == 404
    match_reject(match=proposal, actor=coord, reason="Not a fit")
    assert client.get(_offer_url(proposal)).status_code == 404
    assert CaseRequest.objects.get(pk=proposal.case_id).status == "open"
