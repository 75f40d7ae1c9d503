"""The public pledge pages: form, signed links, wall, open data, admin actions (issue 7)."""

import json
from datetime import date

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import DomainEvent
from matching.models import Match
from pledges.models import Pledge
from pledges.services import MANAGE_SALT, pledge_token
from tests.factories import OrganizationFactory, PledgeFactory, affiliate
from tests.pledges.helpers import (  # noqa: F401
    eager_tasks,
    form_data,
    fresh_cache,
    link_from,
)
from tests.volunteers.offers import offer_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
NEW = reverse("pledges:new")
WALL = reverse("pledges:wall")
XSS = '"><script>alert(1)</script>'


def test_the_form_renders_for_anyone(client):
    response = client.get(NEW)
    assert response.status_code == 200
    assert b'name="website_confirm"' in response.content  # the honeypot is there, hidden


def test_a_valid_pledge_saves_one_row_and_thanks(client):
    response = client.post(NEW, form_data())
    assert response.status_code == 302 and response.url == reverse("pledges:thanks")
    assert Pledge.objects.get().status == Pledge.Status.UNCONFIRMED


def test_an_error_keeps_what_was_typed(client):
    response = client.post(NEW, form_data(amount="0", message="We can do more next year"))
    assert response.status_code == 200 and "amount" in response.context["form"].errors
    body = response.content.decode()
    assert "Hudson &amp; Pine LLP" in body and "We can do more next year" in body
    assert Pledge.objects.count() == 0


def test_a_filled_honeypot_looks_like_success_and_writes_nothing(client):  # SEC-19
    response = client.post(NEW, form_data(website_confirm="http://spam.example"))
    assert response.status_code == 302 and response.url == reverse("pledges:thanks")
    assert Pledge.objects.count() == 0


def test_posts_beyond_the_rate_limit_get_429_and_write_nothing(client):  # SEC-19
    statuses = []
    for n in range(30):
        data = form_data(organization_name=f"Firm {n}", contact_email=f"c{n}@example.org")
        statuses.append(client.post(NEW, data).status_code)
    assert statuses[:5] == [302] * 5
    assert set(statuses[5:]) == {429}
    assert Pledge.objects.count() == 5


def test_the_rate_limit_is_per_address(client):
    for n in range(6):
        client.post(NEW, form_data(contact_email=f"c{n}@example.org"), REMOTE_ADDR="10.0.0.1")
    response = client.post(NEW, form_data(), REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302


def test_the_emailed_link_confirms_and_the_manage_link_edits_and_withdraws(
    client,
    django_capture_on_commit_callbacks,
    eager_tasks,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(NEW, form_data())
    confirm = link_from(mail.outbox[0], "confirm")
    assert client.get(confirm).status_code == 200  # GET shows a button, changes nothing
    assert Pledge.objects.get().status == Pledge.Status.UNCONFIRMED
    response = client.post(confirm)
    assert Pledge.objects.get().status == Pledge.Status.PENDING
    manage = response.url
    edited = form_data(amount="12", organization_name="ignored: disabled field")
    assert client.post(manage, edited).status_code == 302
    pledge = Pledge.objects.get()
    assert pledge.amount == 12 and pledge.organization.name == "Hudson & Pine LLP"
    client.post(reverse("pledges:withdraw", args=[manage.split("/")[-2]]))
    assert Pledge.objects.get().status == Pledge.Status.WITHDRAWN


def test_saving_and_withdrawing_say_so_and_a_withdrawn_pledge_offers_a_new_one(client):
    """Found walking a fresh clone: "Save changes" showed the same page with no word that
    anything was saved, and a withdrawn pledge still said its page could change or withdraw it."""
    pledge = PledgeFactory(status=Pledge.Status.PENDING, amount=500)
    token = pledge_token(pledge=pledge, salt=MANAGE_SALT)
    manage = reverse("pledges:manage", args=[token])
    response = client.post(manage, form_data(amount="12"), follow=True)
    assert "Your changes are saved." in response.content.decode()
    assert Pledge.objects.get().amount == 12
    response = client.post(reverse("pledges:withdraw", args=[token]), follow=True)
    page = response.content.decode()
    assert Pledge.objects.get().status == Pledge.Status.WITHDRAWN
    assert "Your pledge is withdrawn." in page
    assert "it is your link to change or withdraw" not in page
    assert f'href="{reverse("pledges:new")}"' in page and "Save changes" not in page


def test_a_withdrawn_pledge_s_manage_page_is_read_only(client):
    pledge = PledgeFactory(status=Pledge.Status.WITHDRAWN, amount=500)
    manage = reverse("pledges:manage", args=[pledge_token(pledge=pledge, salt=MANAGE_SALT)])
    response = client.post(manage, form_data(amount="12"))
    assert response.status_code == 200  # the page as it was: nothing was taken in
    assert not response.context["form"].is_bound
    assert Pledge.objects.get().amount == 500


def test_a_bad_link_is_a_404_and_changes_nothing(client):
    pledge = PledgeFactory(status="unconfirmed")
    token = pledge_token(pledge=pledge, salt=MANAGE_SALT)  # right pledge, wrong purpose
    assert client.post(reverse("pledges:confirm", args=[token])).status_code == 404
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.UNCONFIRMED


def test_the_wall_lists_approved_public_pledges_only(client):
    shown = PledgeFactory(organization__name="Shown LLP")
    PledgeFactory(organization__name="Private LLP", public=False)
    PledgeFactory(organization__name="Waiting LLP", status="pending")
    body = client.get(WALL).content.decode()
    assert "Shown LLP" in body and "Private LLP" not in body and "Waiting LLP" not in body
    assert f'data-pledge="{shown.pk}"' in body


def test_progress_counts_cases_accepted_by_affiliated_attorneys(client, att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict

    organization = OrganizationFactory()
    affiliate(att_a, organization)
    pledge = PledgeFactory(kind="cases", amount=4, organization=organization)
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    assert Match.objects.filter(status="accepted").count() == 1
    body = client.get(WALL).content.decode()
    assert f'data-pledge="{pledge.pk}"' in body
    assert 'data-progress="1"' in body and "(25% of the pledge)" in body


def _wall_queries(client) -> int:
    cache.clear()  # cold: the totals are computed, not read from the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get(WALL).status_code == 200
    return len(queries)


def test_the_wall_runs_a_constant_number_of_queries(client):
    PledgeFactory.create_batch(10)
    ten = _wall_queries(client)
    PledgeFactory.create_batch(90)
    # Totals and placements by kind (cached), one page, cases and hours of the page; outcomes
    # (cached): by kind, by relief type, by organization, the organizations on the wall.
    assert _wall_queries(client) == ten <= 10


def test_stored_text_is_escaped_on_the_wall(client):  # SEC-20
    PledgeFactory(organization__name=XSS, organization__city=XSS, message=XSS)
    body = client.get(WALL).content.decode()
    assert "<script>alert(1)" not in body
    assert "&quot;&gt;&lt;script&gt;" in body


def test_stored_text_is_escaped_in_the_admin(client, coord):  # SEC-20
    pledge = PledgeFactory(organization=OrganizationFactory(name=XSS), contact_name=XSS)
    client.force_login(coord)
    for url in (
        reverse("admin:pledges_pledge_changelist"),
        reverse("admin:pledges_pledge_change", args=[pledge.pk]),
        reverse("admin:volunteers_organization_changelist"),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body, url


def test_a_coordinator_approves_through_the_admin_action(client, coord):
    pledge = PledgeFactory(status="pending")
    client.force_login(coord)
    response = client.post(
        reverse("admin:pledges_pledge_changelist"),
        {"action": "approve_selected", "_selected_action": [pledge.pk]},
        follow=True,
    )
    assert response.status_code == 200
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.APPROVED
    assert DomainEvent.objects.filter(verb="pledge.approved", actor=coord).count() == 1


def test_the_open_data_endpoint_gives_public_totals_only(client):
    PledgeFactory(kind="hours", amount=100, organization__kind="law_firm")
    PledgeFactory(kind="cases", amount=3, organization__kind="nonprofit")
    PledgeFactory(kind="cases", amount=50, public=False)
    response = client.get(reverse("pledges:totals_json"))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    payload = json.loads(response.content)
    assert payload["totals"] == {"pledges": 2, "hours": 100, "cases": 3, "attorneys": 0}
    assert payload["by_organization_kind"]["nonprofit"]["cases"] == 3
    assert "example.org" not in response.content.decode()  # no contact data


def test_behind_a_proxy_the_rate_limit_is_per_client(client, settings):  # SEC-19, issue 11 #4
    settings.TRUSTED_PROXY_COUNT = 1
    behind = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(5):
        data = form_data(contact_email=f"c{n}@example.org")
        assert (
            client.post(NEW, data, HTTP_X_FORWARDED_FOR="198.51.100.1", **behind).status_code == 302
        )
    refused = client.post(NEW, form_data(), HTTP_X_FORWARDED_FOR="198.51.100.1", **behind)
    assert refused.status_code == 429
    other = client.post(
        NEW, form_data(contact_email="o@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.2", **behind
    )
    assert other.status_code == 302


def _fields(page: bytes) -> bytes:
    """The form's fields, from the first to the submit button (the CSRF token and the script
    nonce differ per request)."""
    start = page.index(b"<fieldset")
    return page[start : page.index(b'type="submit"', start)]


def _form_queries(client) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(NEW)
    assert response.status_code == 200
    return len(queries), response.content


def test_the_blank_form_is_rendered_once_and_served_from_the_cache(client, settings):  # REL-7
    settings.PLEDGE_FORM_CACHE_SECONDS = 300
    first, page = _form_queries(client)
    again, same = _form_queries(client)
    # The courts, languages and kinds of case are not read again: the fragment is cached.
    assert again < first and _fields(same) == _fields(page)
    assert page.count(b'name="courts"') >= 1 and page.count(b'name="languages"') >= 1


def test_the_cached_form_starts_on_the_day_it_is_shown(client, settings, monkeypatch):
    settings.PLEDGE_FORM_CACHE_SECONDS = 300
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 3, 2))
    assert b'value="2026-03-02"' in client.get(NEW).content
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 3, 3))
    assert b'value="2026-03-03"' in client.get(NEW).content


def test_a_form_sent_back_with_errors_is_never_the_cached_blank_one(client, settings):
    settings.PLEDGE_FORM_CACHE_SECONDS = 300
    client.get(NEW)  # fills the cache
    response = client.post(NEW, form_data(amount="0", message="We can do more next year"))
    body = response.content.decode()
    assert "We can do more next year" in body and "Hudson &amp; Pine LLP" in body
    assert "is-invalid" in body  # the amount's error is shown on the field
    assert Pledge.objects.count() == 0


def test_with_no_cache_time_the_form_is_rendered_every_time(client, settings):
    settings.PLEDGE_FORM_CACHE_SECONDS = 0
    first, _ = _form_queries(client)
    again, _ = _form_queries(client)
    assert again == first
