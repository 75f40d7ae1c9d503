"""Decisions on a match's own page: approve, offer, reject with a reason, through the services
(issue: daily work, item 2). State changes by POST with CSRF only (SEC-16), coordinators only
(SEC-14)."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from matching.models import Match
from matching.services import match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory

pytestmark = pytest.mark.django_db
Status = Match.Status
BREAKDOWN = {  # as runs stored it before issue 15: its sentences are shown as stored
    "affinity": {"language": 400, "distance": 150, "experience": 60, "miles": 8.2},
    "priority": {"stored": 300, "detention": 100, "hearing": 200, "deadline": 0, "waiting": 0},
    "explanation": ["Speaks Spanish natively", "8 miles from the court"],
}


@pytest.fixture
def proposal(db):
    return match_propose(
        case=CaseRequestFactory(), attorney=AttorneyFactory(), score=900, breakdown=BREAKDOWN
    )


def _decide(client, match, **data):
    return client.post(reverse("admin:matching_match_decide", args=[match.pk]), data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_match_page_is_titled_by_the_case_reference_and_offers_its_decisions(
    client, coord, proposal
):
    client.force_login(coord)
    response = client.get(reverse("admin:matching_match_change", args=[proposal.pk]))
    html = response.content.decode()
    assert f"<h1>Match for case {proposal.case.reference}</h1>" in html
    assert 'value="approve"' in html
    assert 'value="reject"' in html
    assert 'value="offer"' not in html  # only an approved match can be offered


def test_a_coordinator_approves_then_offers_from_the_match_page(client, coord, proposal):
    client.force_login(coord)
    response = _decide(client, proposal, decision="approve")
    assert response.status_code == 302
    assert response.url == reverse("admin:matching_match_change", args=[proposal.pk])
    assert "Match approved." in _messages(response)
    proposal.refresh_from_db()
    assert proposal.status == Status.APPROVED
    assert DomainEvent.objects.filter(verb="match.approved", actor=coord).count() == 1

    _decide(client, proposal, decision="offer")
    proposal.refresh_from_db()
    assert proposal.status == Status.OFFERED
    assert proposal.expires_at is not None


def test_a_coordinator_rejects_with_a_reason_and_the_case_returns_to_matching(
    client, coord, proposal
):
    client.force_login(coord)
    _decide(client, proposal, decision="reject", reason="Attorney has a known conflict")
    proposal.refresh_from_db()
    proposal.case.refresh_from_db()
    assert proposal.status == Status.REJECTED
    assert proposal.reject_reason == "Attorney has a known conflict"
    assert proposal.case.status == "open"


def test_rejecting_without_a_reason_changes_nothing(client, coord, proposal):
    client.force_login(coord)
    response = _decide(client, proposal, decision="reject", reason="  ")
    assert "Not rejected: say why, in at most 1,000 characters." in _messages(response)
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_a_decision_the_match_no_longer_allows_is_refused_with_a_message(client, coord, proposal):
    client.force_login(coord)
    response = _decide(client, proposal, decision="offer")
    assert response.status_code == 302
    assert any(m.startswith("Not done: ") for m in _messages(response))
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_an_unknown_decision_changes_nothing(client, coord, proposal):
    client.force_login(coord)
    response = _decide(client, proposal, decision="delete")
    assert "Choose approve, offer or reject." in _messages(response)
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_a_get_is_refused(client, coord, proposal):  # SEC-16
    client.force_login(coord)
    url = reverse("admin:matching_match_decide", args=[proposal.pk])
    assert client.get(url, {"decision": "approve"}).status_code == 405
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_a_post_without_a_csrf_token_is_refused(coord, proposal):  # SEC-16
    client = Client(enforce_csrf_checks=True)
    client.force_login(coord)
    assert _decide(client, proposal, decision="approve").status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_staff_without_the_permission_are_refused(client, staff_plain, proposal):  # SEC-14
    client.force_login(staff_plain)
    assert _decide(client, proposal, decision="approve").status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_an_attorney_is_sent_to_the_admin_login(client, att_a, proposal):  # SEC-14
    client.force_login(att_a.user)
    response = _decide(client, proposal, decision="approve")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_an_unknown_match_is_a_404(client, coord):
    client.force_login(coord)
    assert client.post(reverse("admin:matching_match_decide", args=[999999]), {}).status_code == 404
