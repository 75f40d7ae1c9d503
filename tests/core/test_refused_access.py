"""Refused object access is audited, aggregated so a scan cannot flood the log (SEC-24)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.models import DomainEvent
from core.services import REFUSED_ACCESS_WINDOW_SECONDS, access_refused_record
from tests.factories import CaseRequestFactory, OrganizationFactory, partner_user
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The counters live in the cache: a cache of this test's own, empty."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ra"}
    }
    cache.clear()


def _refusals(user):
    return list(DomainEvent.objects.filter(verb="access.refused", actor=user).order_by("id"))


def test_three_404s_on_another_attorneys_offer_are_recorded_once(client, att_a, att_b, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_b.user)
    for name in ("volunteers:offer", "volunteers:offer_parties", "volunteers:case"):
        assert client.get(reverse(name, args=[match.pk])).status_code == 404
    (event,) = _refusals(att_b.user)
    assert event.data["kind"] == "matching.match" and event.data["count"] == 1
    assert event.actor_label == att_b.user.username


def test_a_scan_writes_a_handful_of_events_that_say_how_many(client, att_a, att_b, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_b.user)
    for match_id in range(match.pk, match.pk + 100):
        assert client.get(reverse("volunteers:offer", args=[match_id])).status_code == 404
    assert [event.data["count"] for event in _refusals(att_b.user)] == [1, 10, 100]


def test_the_owner_opening_a_stage_not_yet_reached_is_recorded(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    assert client.get(reverse("volunteers:case", args=[match.pk])).status_code == 404
    assert len(_refusals(att_a.user)) == 1


def test_a_partner_asking_for_another_organizations_case_is_recorded(client):
    case = CaseRequestFactory()
    user = partner_user(organization=OrganizationFactory())
    client.force_login(user)
    assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404
    (event,) = _refusals(user)
    assert event.data["kind"] == "cases.caserequest"


def test_each_window_and_each_kind_counts_apart(att_b):
    user, window = att_b.user, REFUSED_ACCESS_WINDOW_SECONDS
    start = 1_000 * window
    recorded = [
        access_refused_record(actor=user, kind="matching.match", now=start),
        access_refused_record(actor=user, kind="matching.match", now=start + 1),
        access_refused_record(actor=user, kind="cases.caserequest", now=start + 2),
        access_refused_record(actor=user, kind="matching.match", now=start + window),
    ]
    assert [event is not None for event in recorded] == [True, False, True, True]
    assert recorded[3].data["window_start"] != recorded[0].data["window_start"]
