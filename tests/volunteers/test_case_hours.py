"""Hours an attorney logs on an accepted case (they count toward the organization's pledges).

A day worked lies between the case's acceptance and the attorney's today, and one day holds at
most 24 hours across all of the attorney's entries (issue 11 #9, SEC-18): the wall shows them.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import DomainEvent
from matching.models import Match
from tests.factories import OrganizationFactory, PledgeFactory, affiliate
from tests.volunteers.offers import offer_create
from volunteers.models import CaseHours
from volunteers.services import AttorneyError, case_hours_log

pytestmark = pytest.mark.django_db
WALL = reverse("pledges:wall")
ACCEPTED_DAYS_AGO = 30


def _day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def _accept(attorney, coord):
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=attorney, coordinator=coord)
    match_attest_no_conflict(match=match, user=attorney.user)
    match = match_accept(match=match, user=attorney.user)
    accepted_at = timezone.now() - timedelta(days=ACCEPTED_DAYS_AGO)
    Match.objects.filter(pk=match.pk).update(responded_at=accepted_at)
    match.refresh_from_db()
    return match


@pytest.fixture
def accepted(att_a, coord):
    affiliate(att_a, OrganizationFactory())
    return _accept(att_a, coord)


def _log(client, match, hours, worked_on, token=None):
    """Post the hours form as the page issues it: a fresh submission token unless given."""
    data = {"hours": hours, "worked_on": worked_on, "submission_token": token or uuid.uuid4()}
    return client.post(reverse("volunteers:case_hours", args=[match.pk]), data)


def test_the_attorney_logs_hours_and_the_hours_pledge_progresses(client, att_a, accepted):
    att_a.refresh_from_db()
    pledge = PledgeFactory(kind="hours", amount=10, organization=att_a.organization)
    client.force_login(att_a.user)
    response = _log(client, accepted, "2.5", _day(3))
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
    assert _log(client, accepted, "2", _day(3)).status_code == 404
    assert CaseHours.objects.count() == 0


@pytest.mark.parametrize(
    ("hours", "worked_on", "message"),
    [
        ("25", _day(3), "less than or equal to 24"),
        ("2", _day(-1), "already worked, not future ones"),
        ("2", "2099-01-01", "already worked, not future ones"),
        ("2", "1800-01-01", "from the day you accepted the case"),
        ("2", "0001-01-01", "from the day you accepted the case"),
        ("2", _day(ACCEPTED_DAYS_AGO + 1), "from the day you accepted the case"),
        ("2", "not a date", "Enter a valid date"),
    ],
    ids=["25h", "tomorrow", "2099", "1800", "year-1", "before-acceptance", "garbage"],
)
def test_a_day_outside_the_case_or_too_many_hours_is_a_form_error(  # SEC-18
    client, att_a, accepted, hours, worked_on, message
):
    client.force_login(att_a.user)
    response = _log(client, accepted, hours, worked_on)
    assert response.status_code == 200  # the case page again, the entry's error on it
    assert message in response.content.decode()
    assert CaseHours.objects.count() == 0


def test_the_day_of_acceptance_and_today_are_accepted(client, att_a, accepted):
    client.force_login(att_a.user)
    assert _log(client, accepted, "1", _day(ACCEPTED_DAYS_AGO)).status_code == 302
    assert _log(client, accepted, "1", _day(0)).status_code == 302
    assert CaseHours.objects.count() == 2


def test_a_day_holds_at_most_24_hours_across_entries_and_cases(  # SEC-18
    client, att_a, coord, accepted
):
    second_case = _accept(att_a, coord)
    client.force_login(att_a.user)
    assert _log(client, accepted, "20", _day(2)).status_code == 302
    refused = _log(client, second_case, "4.5", _day(2))
    assert refused.status_code == 200
    assert "already logged 20.0 hours" in refused.content.decode()
    assert _log(client, second_case, "4", _day(2)).status_code == 302  # exactly 24
    full = _log(client, accepted, "0.1", _day(2))
    assert full.status_code == 200 and "already logged 24.0 hours" in full.content.decode()
    assert _log(client, accepted, "8", _day(1)).status_code == 302  # another day
    assert sorted(CaseHours.objects.values_list("hours", flat=True)) == [4, 8, 20]


# One submission, logged once (a double click, the back button and send, a retried POST).


def test_the_same_submission_sent_twice_logs_the_hours_once(client, att_a, accepted):
    client.force_login(att_a.user)
    token = uuid.uuid4()
    first = _log(client, accepted, "2.5", _day(3), token=token)
    again = _log(client, accepted, "2.5", _day(3), token=token)
    case_page = reverse("volunteers:case", args=[accepted.pk])
    assert (first.status_code, first.url) == (302, case_page)
    assert (again.status_code, again.url) == (302, case_page)  # the same landing
    assert CaseHours.objects.get().submission_token == token
    assert DomainEvent.objects.filter(verb="case.hours_logged").count() == 1
    body = client.get(case_page).content.decode()
    assert "We already received these hours (2.5 on" in body and 'data-hours-total="2.5"' in body


def test_a_resend_of_a_full_day_lands_on_the_entry_not_on_the_day_limit(client, att_a, accepted):
    client.force_login(att_a.user)
    token = uuid.uuid4()
    assert _log(client, accepted, "24", _day(2), token=token).status_code == 302
    assert _log(client, accepted, "24", _day(2), token=token).status_code == 302
    assert CaseHours.objects.count() == 1


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "9" * 5000, None], ids=["empty", "malformed", "long", "missing"]
)
def test_a_missing_or_malformed_token_is_a_form_error_and_writes_nothing(
    client, att_a, accepted, token
):
    client.force_login(att_a.user)
    data = {"hours": "2", "worked_on": _day(3)}
    if token is not None:
        data["submission_token"] = token
    response = client.post(reverse("volunteers:case_hours", args=[accepted.pk]), data)
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode()
    assert not CaseHours.objects.exists()
    # The page shown again carries a good token: sent as it is, it goes through.
    fresh = response.context["hours_form"]["submission_token"].value()
    assert _log(client, accepted, "2", _day(3), token=fresh).status_code == 302


def test_a_token_of_another_cases_entry_is_refused_and_names_nothing(
    client, att_a, coord, accepted
):
    other_case = _accept(att_a, coord)
    client.force_login(att_a.user)
    token = uuid.uuid4()
    assert _log(client, accepted, "2", _day(3), token=token).status_code == 302
    refused = _log(client, other_case, "2", _day(3), token=token)
    assert refused.status_code == 200 and "sent for another case" in refused.content.decode()
    assert CaseHours.objects.count() == 1


def test_a_twin_committed_after_the_lookup_is_found_not_a_500(client, att_a, accepted, monkeypatch):
    """The unique violation path (twins that both passed the lookup): the first lookup misses
    as if the twin had not committed yet; the insert fails on the token and finds the twin."""
    from volunteers import services

    client.force_login(att_a.user)
    token = uuid.uuid4()
    assert _log(client, accepted, "2", _day(3), token=token).status_code == 302
    lookup, calls = services._hours_submitted, []

    def late(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else lookup(**kwargs)

    monkeypatch.setattr(services, "_hours_submitted", late)
    again = _log(client, accepted, "2", _day(3), token=token)
    assert again.status_code == 302 and len(calls) == 2
    assert CaseHours.objects.count() == 1


# The same hours again after Back and Send: the page is never cached, so the form comes back with
# a new token; the same hours for the same day of the case within HOURS_REPEAT_WINDOW are asked
# about instead of logged twice.


def test_the_same_hours_sent_again_with_a_new_token_are_asked_about_not_logged(
    client, att_a, accepted
):
    client.force_login(att_a.user)
    assert _log(client, accepted, "2.5", _day(3)).status_code == 302
    again = _log(client, accepted, "2.5", _day(3))  # Back, then Send: a fresh token
    body = again.content.decode()
    assert again.status_code == 200
    assert "You logged 2.5 hours for" in body and "on this case a minute ago" in body
    assert 'type="checkbox" name="again"' in body and "These are more hours" in body
    assert CaseHours.objects.count() == 1
    assert DomainEvent.objects.filter(verb="case.hours_logged").count() == 1

    token = again.context["hours_form"]["submission_token"].value()
    data = {"hours": "2.5", "worked_on": _day(3), "submission_token": token, "again": "on"}
    more = client.post(reverse("volunteers:case_hours", args=[accepted.pk]), data)
    assert more.status_code == 302
    assert list(CaseHours.objects.values_list("hours", flat=True)) == [Decimal("2.5")] * 2


def test_other_hours_another_day_or_a_later_entry_are_logged_without_asking(
    client, att_a, coord, accepted
):
    from volunteers.services import HOURS_REPEAT_WINDOW

    other_case = _accept(att_a, coord)
    client.force_login(att_a.user)
    assert _log(client, accepted, "2", _day(3)).status_code == 302
    assert _log(client, accepted, "3", _day(3)).status_code == 302  # other hours
    assert _log(client, accepted, "2", _day(4)).status_code == 302  # another day
    assert _log(client, other_case, "2", _day(3)).status_code == 302  # another case
    CaseHours.objects.update(created_at=timezone.now() - HOURS_REPEAT_WINDOW)
    assert _log(client, accepted, "2", _day(3)).status_code == 302  # not just logged
    assert CaseHours.objects.count() == 5


def test_the_hours_form_shows_no_box_until_it_asks(client, att_a, accepted):
    client.force_login(att_a.user)
    body = client.get(reverse("volunteers:case", args=[accepted.pk])).content.decode()
    assert 'type="hidden" name="again"' in body and "These are more hours" not in body


def test_the_service_refuses_hours_from_anyone_but_the_attorney_on_the_case(att_b, accepted):
    """Defence in depth: the page finds the match through the attorney's own selector (404 for
    anyone else); the service refuses on its own too."""
    with pytest.raises(AttorneyError) as refused:
        case_hours_log(
            match=accepted, user=att_b.user, hours=Decimal(2), worked_on=timezone.localdate()
        )
    assert refused.value.code == "not_your_case"
    assert not CaseHours.objects.exists()


def test_hours_that_fail_half_way_are_not_logged(att_a, accepted, monkeypatch):
    from volunteers import services

    def fail(**kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(services, "event_record", fail)
    with pytest.raises(RuntimeError):
        case_hours_log(
            match=accepted, user=att_a.user, hours=Decimal(2), worked_on=timezone.localdate()
        )
    assert not CaseHours.objects.exists()
