"""The attorneys' hearing calendar: a secret, revocable iCalendar feed of their accepted cases'
hearings and filing deadlines, with no identifiers in it (issue: attorneys find work, item 4)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from core.models import DomainEvent
from matching.services import match_accept, match_attest_no_conflict
from tests.volunteers.offers import CONTACT, RESPONDENT_NAME, offer_create
from volunteers.models import AttorneyProfile, CalendarFeed

pytestmark = pytest.mark.django_db
PAGE = reverse("volunteers:calendar")


def _accepted(attorney, coord, **case_fields):
    match = offer_create(attorney=attorney, coordinator=coord, **case_fields)
    match_attest_no_conflict(match=match, user=attorney.user)
    return match_accept(match=match, user=attorney.user)


def _link(client, attorney) -> str:
    """Create the link as the attorney would, and read the URL the page shows once."""
    client.force_login(attorney.user)
    client.post(PAGE, {"action": "create"})
    return client.get(PAGE).context["new_url"]


def _feed(client, url: str):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return client.get("/" + path)


@pytest.fixture
def accepted(att_a, coord):
    today = timezone.localdate()
    return _accepted(
        att_a,
        coord,
        next_hearing_date=today + timedelta(days=20),
        next_hearing_type="individual",
        filing_deadline=today + timedelta(days=9),
    )


def test_the_feed_lists_hearings_and_deadlines_of_accepted_cases(client, att_a, accepted):
    response = _feed(client, _link(client, att_a))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    case = accepted.case
    by_uid = {str(e["UID"]): e for e in events}
    hearing = by_uid[f"{case.reference}-hearing@probono-match"]
    deadline = by_uid[f"{case.reference}-deadline@probono-match"]
    assert hearing.decoded("DTSTART") == case.next_hearing_date
    assert deadline.decoded("DTSTART") == case.filing_deadline
    assert str(hearing["SUMMARY"]).startswith(f"Individual (merits) hearing · {case.reference} · ")
    assert case.court.name in str(hearing["SUMMARY"])


def test_the_feed_names_no_one(client, att_a, accepted):
    body = _feed(client, _link(client, att_a)).content.decode()
    a_number = accepted.case.a_number
    for secret in (RESPONDENT_NAME, RESPONDENT_NAME.upper(), CONTACT, a_number, a_number[-4:]):
        assert secret not in body
    assert f"A{a_number}" not in body and f"{a_number[:3]}-{a_number[3:6]}" not in body


def test_offers_and_other_attorneys_cases_stay_out(client, att_a, att_b, coord, accepted):
    offered = offer_create(attorney=att_a, coordinator=coord)
    theirs = _accepted(att_b, coord, next_hearing_date=timezone.localdate() + timedelta(days=3))
    body = _feed(client, _link(client, att_a)).content.decode()
    assert offered.case.reference not in body
    assert theirs.case.reference not in body


def test_only_the_hash_of_the_token_is_stored_and_the_url_is_shown_once(client, att_a):
    url = _link(client, att_a)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get(attorney=att_a)
    assert token not in feed.token_hash and len(feed.token_hash) == 64
    assert client.get(PAGE).context["new_url"] is None
    assert DomainEvent.objects.filter(verb="attorney.calendar_link_created").count() == 1


def test_a_new_link_revokes_the_old_one_at_once(client, att_a, accepted):
    old = _link(client, att_a)
    new = _link(client, att_a)
    assert old != new
    assert _feed(client, old).status_code == 404
    assert _feed(client, new).status_code == 200


def test_turning_the_calendar_off_makes_the_link_404(client, att_a, accepted):
    url = _link(client, att_a)
    client.post(PAGE, {"action": "revoke"})
    assert not CalendarFeed.objects.filter(attorney=att_a).exists()
    assert _feed(client, url).status_code == 404
    assert DomainEvent.objects.filter(verb="attorney.calendar_link_revoked").count() == 1


def test_a_deactivated_or_unverified_attorneys_link_stops_working(client, att_a, accepted):
    url = _link(client, att_a)
    att_a.user.is_active = False
    att_a.user.save()
    assert _feed(client, url).status_code == 404


def test_the_link_stops_working_when_the_attorney_is_no_longer_verified(client, att_a, accepted):
    url = _link(client, att_a)
    assert _feed(client, url).status_code == 200
    AttorneyProfile.objects.filter(pk=att_a.pk).update(verification="pending")
    assert _feed(client, url).status_code == 404  # SEC-11: no case dates either


def test_an_unknown_action_changes_nothing(client, att_a):
    client.force_login(att_a.user)
    response = client.post(PAGE, {"action": "drop"}, follow=True)
    assert "Choose to create a new link" in response.content.decode()
    assert not CalendarFeed.objects.exists()


def test_an_attorney_not_yet_verified_has_no_calendar(client, att_new):
    client.force_login(att_new.user)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"action": "create"}).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_creating_a_link_needs_a_csrf_token(att_a):  # SEC-16
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    assert client.post(PAGE, {"action": "create"}).status_code == 403
    assert not CalendarFeed.objects.exists()
