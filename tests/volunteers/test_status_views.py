"""The status update pages (issue 16): the e-mailed link and the case page's form.

The link is for its attorney signed in as themselves: anyone else (another attorney, a forged
token) gets a 404 and nothing is written (SEC-12); an answered or expired link says so (410).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from matching.checkins import status_requests_create
from matching.models import Match, StatusRequest
from tests.matching.checkins import accepted_case, tokens_in
from volunteers.models import AttorneyProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

Answer = StatusRequest.Answer


@pytest.fixture
def asked(att_a, coord, django_capture_on_commit_callbacks):
    """An accepted case of att_a, a coordinator's request, and the link's token from the mail."""
    match = accepted_case(attorney=att_a, coordinator=coord)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        status_requests_create(matches=[match], actor=coord)
    (token,) = tokens_in(mail.outbox[-1])
    return match, token


def _link(token):
    return reverse("volunteers:status_link", args=[token])


def _state(match):
    case = CaseRequest.objects.get(pk=match.case_id)
    return (
        case.status,
        case.next_hearing_date,
        case.outcome,
        Match.objects.get(pk=match.pk).status,
        list(StatusRequest.objects.values_list("answer", "note")),
    )


def test_the_link_opens_the_form_for_its_attorney(client, asked, att_a):
    match, token = asked
    client.force_login(att_a.user)
    response = client.get(_link(token))
    assert response.status_code == 200
    assert match.case.reference in response.content.decode()
    assert "data-pending-request" in response.content.decode()


def test_the_link_answer_updates_the_case(client, asked, att_a):
    match, token = asked
    client.force_login(att_a.user)
    new_date = timezone.localdate() + timedelta(days=40)
    response = client.post(
        _link(token), {"answer": Answer.CONTINUED, "hearing_date": new_date.isoformat()}
    )
    assert response.status_code == 302
    assert response.url == reverse("volunteers:case", args=[match.pk])
    assert CaseRequest.objects.get(pk=match.case_id).next_hearing_date == new_date
    row = StatusRequest.objects.get()
    assert row.answer == Answer.CONTINUED and row.answered_at is not None
    page = client.get(response.url).content.decode()
    assert new_date.strftime("%-d %b %Y") in page


def test_the_link_needs_a_sign_in(client, asked):
    _, token = asked
    response = client.get(_link(token))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["another attorney", "its attorney, no longer verified"])
def test_anyone_but_its_verified_attorney_gets_a_404_and_writes_nothing(
    client, asked, att_a, att_b, who
):  # SEC-11, SEC-12
    match, token = asked
    if who == "another attorney":
        client.force_login(att_b.user)
    else:
        AttorneyProfile.objects.filter(pk=att_a.pk).update(verification="pending")
        client.force_login(att_a.user)
    before = _state(match)
    assert client.get(_link(token)).status_code == 404
    response = client.post(_link(token), {"answer": Answer.NEED_HELP, "note": "x"})
    assert response.status_code == 404
    assert _state(match) == before


def test_a_forged_token_is_a_404(client, asked, att_a):
    match, token = asked
    client.force_login(att_a.user)
    forged = ("0" if token[0] != "0" else "1") + token[1:]
    before = _state(match)
    assert client.get(_link(forged)).status_code == 404
    assert client.post(_link(forged), {"answer": Answer.NEED_HELP, "note": "x"}).status_code == 404
    assert client.get(_link("not-a-token")).status_code == 404
    assert _state(match) == before


def test_an_expired_link_is_refused(client, asked, att_a):
    match, token = asked
    StatusRequest.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(att_a.user)
    before = _state(match)
    assert client.get(_link(token)).status_code == 410
    response = client.post(_link(token), {"answer": Answer.NEED_HELP, "note": "x"})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert _state(match) == before


def test_an_answered_link_says_so(client, asked, att_a):
    _, token = asked
    client.force_login(att_a.user)
    client.post(_link(token), {"answer": Answer.NEED_HELP, "note": "Please call me."})
    response = client.get(_link(token))
    assert response.status_code == 410
    assert "was answered" in response.content.decode()


def test_a_post_without_csrf_token_is_refused(asked, att_a):
    """SEC-16: CSRF on both forms; nothing written."""
    match, token = asked
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    before = _state(match)
    data = {"answer": Answer.NEED_HELP, "note": "x"}
    assert client.post(_link(token), data).status_code == 403
    url = reverse("volunteers:case_status", args=[match.pk])
    assert client.post(url, data).status_code == 403
    assert _state(match) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"answer": Answer.CONTINUED, "hearing_date": "2020-01-01"}, "hearing_date"),
        ({"answer": Answer.CONTINUED, "hearing_date": "31/31/2026"}, "hearing_date"),
        ({"answer": Answer.CONTINUED}, "hearing_date"),
        ({"answer": Answer.CLOSED, "outcome": "removal_ordered", "outcome_date": "2999-01-01"},
         "outcome_date"),
        ({"answer": Answer.CLOSED, "outcome": "relief_granted", "outcome_date": "2000-01-01"},
         "relief_type"),
        ({"answer": Answer.NEED_HELP}, "note"),
        ({"answer": "bogus"}, "answer"),
        ({"answer": Answer.NEED_HELP, "note": "x" * 2001}, "note"),
    ],
    ids=["past", "garbage", "missing", "future-outcome", "no-relief-type", "no-note", "bad-answer",
         "long-note"],
)  # fmt: skip
def test_bad_input_is_a_form_error_and_writes_nothing(client, asked, att_a, data, field):
    match, token = asked
    client.force_login(att_a.user)
    before = _state(match)
    response = client.post(_link(token), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert _state(match) == before


def test_an_outcome_before_acceptance_is_a_form_error(client, att_a, coord):
    match = accepted_case(attorney=att_a, coordinator=coord, days_ago=10)
    client.force_login(att_a.user)
    url = reverse("volunteers:case_status", args=[match.pk])
    early = (timezone.localdate() - timedelta(days=20)).isoformat()
    data = {"answer": Answer.CLOSED, "outcome": "termination", "outcome_date": early}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "before you accepted" in str(response.context["form"].errors["outcome_date"])
    assert not StatusRequest.objects.exists()


def test_the_case_page_form_updates_the_case(client, att_a, coord):
    match = accepted_case(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    case_page = client.get(reverse("volunteers:case", args=[match.pk])).content.decode()
    url = reverse("volunteers:case_status", args=[match.pk])
    assert url in case_page
    new_date = timezone.localdate() + timedelta(days=14)
    response = client.post(
        url, {"answer": Answer.HEARING_HELD, "hearing_date": new_date.isoformat()}
    )
    assert response.status_code == 302
    assert CaseRequest.objects.get(pk=match.case_id).next_hearing_date == new_date
    assert StatusRequest.objects.get().trigger == StatusRequest.Trigger.ATTORNEY


def test_closing_from_the_case_page_sends_the_attorney_to_the_dashboard(client, att_a, coord):
    match = accepted_case(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    url = reverse("volunteers:case_status", args=[match.pk])
    data = {
        "answer": Answer.CLOSED,
        "outcome": "relief_granted",
        "relief_type": "asylum",
        "outcome_date": timezone.localdate().isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 302 and response.url == reverse("volunteers:dashboard")
    assert CaseRequest.objects.get(pk=match.case_id).outcome == "relief_granted"
    dashboard = client.get(response.url).content.decode()
    assert "Case closed: relief granted (Asylum)" in dashboard
    # The case page is for accepted cases; the closed one is history now.
    assert client.get(reverse("volunteers:case", args=[match.pk])).status_code == 404


def test_the_note_is_escaped_on_the_page(client, att_a, coord):
    """SEC-20: the stored note shows escaped wherever it shows."""
    match = accepted_case(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    url = reverse("volunteers:case_status", args=[match.pk])
    client.post(url, {"answer": Answer.NEED_HELP, "note": '"><script>alert(1)</script>'})
    assert StatusRequest.objects.get().note.startswith('"><script>')
