"""Honest dates (issue 12, item 7): "today" is the attorney's own, deadlines carry their zone."""

import uuid
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from matching.models import Match
from matching.services import match_offer_notify
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile, CaseHours
from volunteers.timezones import attorney_localdate, attorney_zone, zip_time_zone

pytestmark = pytest.mark.django_db

# 05:30 UTC on 6 December: already the 6th in New York, still the 5th in Los Angeles.
NOW = datetime(2026, 12, 6, 5, 30, tzinfo=UTC)


def _capacity(client, paused_until):
    return client.post(
        reverse("volunteers:profile_step", args=["capacity"]),
        {"capacity": "2", "paused_until": paused_until},
    )


def test_a_zip_gives_its_time_zone():
    assert zip_time_zone("94111") == "America/Los_Angeles"
    assert zip_time_zone("10001") == "America/New_York"
    assert zip_time_zone("99999") is None


def test_today_is_the_attorneys_own_date(att_a):
    assert attorney_localdate(att_a, now=NOW) == date(2026, 12, 6)  # ZIP 10278, New York
    att_a.home_zip = "94111"
    assert attorney_localdate(att_a, now=NOW) == date(2026, 12, 5)
    att_a.home_zip, att_a.time_zone = "10278", "Pacific/Honolulu"  # a choice beats the ZIP
    assert attorney_localdate(att_a, now=NOW) == date(2026, 12, 5)
    assert str(attorney_zone(att_a)) == "Pacific/Honolulu"


def test_an_unknown_zone_falls_back_to_the_site_zone(att_a, settings):
    att_a.home_zip, att_a.time_zone = "00000", ""
    assert str(attorney_zone(att_a)) == settings.TIME_ZONE


def test_a_pause_date_in_the_past_is_refused_with_a_message(client, att_a):
    client.force_login(att_a.user)
    response = _capacity(client, "1800-01-01")
    html = response.content.decode()
    assert response.status_code == 200 and "This date is in the past" in html
    assert "Saved." not in html
    att_a.refresh_from_db()
    assert att_a.paused_until is None


def test_a_future_pause_date_is_saved(client, att_a):
    client.force_login(att_a.user)
    later = timezone.localdate() + timedelta(days=10)
    assert _capacity(client, later.isoformat()).status_code == 302
    att_a.refresh_from_db()
    assert att_a.paused_until == later


def test_the_pause_date_is_checked_against_the_attorneys_today(att_a, monkeypatch):
    """In Los Angeles it is still the 5th: pausing until the 5th is not "in the past" there."""
    from volunteers.services import attorney_availability_set

    AttorneyProfile.objects.filter(pk=att_a.pk).update(time_zone="America/Los_Angeles")
    att_a.refresh_from_db()
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    attorney_availability_set(attorney=att_a, capacity=2, paused_until=date(2026, 12, 5))
    att_a.refresh_from_db()
    assert att_a.paused_until == date(2026, 12, 5)


def test_the_time_zone_is_a_profile_choice(client, att_a):
    client.force_login(att_a.user)
    about = {
        "first_name": "Ana", "last_name": "Lawyer", "home_zip": "10001",
        "travel_radius_miles": "30",
    }  # fmt: skip
    url = reverse("volunteers:profile_step", args=["about"])
    response = client.post(url, about | {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.post(url, about | {"time_zone": "America/Chicago"}).status_code == 302
    att_a.refresh_from_db()
    assert att_a.time_zone == "America/Chicago"


def test_the_offer_deadline_is_shown_in_the_attorneys_zone(client, att_a, coord):
    AttorneyProfile.objects.filter(pk=att_a.pk).update(home_zip="94111")
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    pacific = timezone.localtime(match.expires_at, attorney_zone(match.attorney))
    html = client.get(reverse("volunteers:offer", args=[match.pk])).content.decode()
    assert pacific.strftime("%H:%M") + " PST" in html
    dashboard = client.get(reverse("volunteers:dashboard")).content.decode()
    assert pacific.strftime("%H:%M") + " PST" in dashboard


def test_the_offer_email_gives_the_deadline_in_the_attorneys_zone(att_a, coord):
    AttorneyProfile.objects.filter(pk=att_a.pk).update(time_zone="America/Chicago")
    match = offer_create(attorney=att_a, coordinator=coord)
    assert match_offer_notify(match_id=match.pk)
    assert " CST" in mail.outbox[-1].body and " EST" not in mail.outbox[-1].body


# "Today" where the attorney is, at 05:30 UTC on 6 December: the 6th in New York (the site's
# zone), still the 5th in Honolulu (issue 12 #7).


def _in_honolulu(attorney):
    AttorneyProfile.objects.filter(pk=attorney.pk).update(time_zone="Pacific/Honolulu")
    attorney.refresh_from_db()
    return attorney


def test_the_hours_form_offers_the_attorneys_own_today(client, att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=_in_honolulu(att_a), coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    # Accepted before NOW (the test may run on any day), so only the day ahead is refused.
    Match.objects.filter(pk=match.pk).update(responded_at=NOW - timedelta(days=10))
    client.force_login(att_a.user)
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        html = client.get(reverse("volunteers:case", args=[match.pk])).content.decode()
        # Logging the 6th is a day in the future for her: refused.
        refused = client.post(
            reverse("volunteers:case_hours", args=[match.pk]),
            {"hours": "1", "worked_on": "2026-12-06", "submission_token": str(uuid.uuid4())},
        )
    assert 'name="worked_on" value="2026-12-05"' in html and 'max="2026-12-05"' in html
    assert refused.status_code == 200 and not CaseHours.objects.exists()
    assert "already worked, not future ones" in refused.content.decode()


def test_a_pause_ends_on_the_attorneys_own_date(att_a, att_b, coord):
    """Both are back on the 6th: the New Yorker is, the attorney in Honolulu not yet, for the
    coordinator's proposal and for the matching run alike."""
    from matching.pipeline.load import load_problem
    from matching.services import MatchError, match_propose
    from tests.factories import CaseRequestFactory

    AttorneyProfile.objects.filter(pk__in=[att_a.pk, att_b.pk]).update(
        paused_until=date(2026, 12, 6), time_zone="America/New_York"
    )
    _in_honolulu(att_b)
    case = CaseRequestFactory()
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        loaded = set(load_problem().attorneys.pk.tolist())
        with pytest.raises(MatchError) as paused:
            match_propose(case=case, attorney=att_b, score=10, breakdown={}, actor=coord)
        match_propose(case=case, attorney=att_a, score=10, breakdown={}, actor=coord)
    assert att_a.pk in loaded and att_b.pk not in loaded
    assert paused.value.code == "attorney_paused"
