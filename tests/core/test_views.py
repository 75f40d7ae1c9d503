import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from matching.models import Match
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory, PledgeFactory

pytestmark = pytest.mark.django_db


def _total(response, name):
    html = response.content.decode()
    start = html.index(f'data-total="{name}">') + len(f'data-total="{name}">')
    return html[start : html.index("<", start)]


@pytest.mark.smoke
def test_home_page_shows_live_totals(client):
    CaseRequestFactory.create_batch(3)
    AttorneyFactory.create_batch(2)
    AttorneyFactory(verification="pending")
    MatchFactory(status=Match.Status.OFFERED)  # its case is open too, but this counts as a match
    MatchFactory(status=Match.Status.DECLINED, decline_reason="language")
    PledgeFactory(amount=1200)
    PledgeFactory(amount=300)
    PledgeFactory(amount=999, status="pending")  # not yet approved: not counted
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert _total(response, "open_cases") == "5"
    assert _total(response, "volunteers") == "4"
    assert _total(response, "active_matches") == "1"
    assert _total(response, "pledged_hours") == "1,500"


def test_home_page_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    CaseRequestFactory.create_batch(20)
    with django_assert_max_num_queries(5):
        client.get(reverse("home"))


def test_pages_carry_a_strict_content_security_policy(client):  # SEC-2
    response = client.get(reverse("home"))
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_bootstrap_from_our_own_static_files(client):
    html = client.get(reverse("home")).content.decode()
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "/static/vendor/bootstrap/js/bootstrap.bundle.min.js" in html
    assert "cdn" not in html.lower()
    # Vendored files, found by the static finders (no package or build step provides them).
    assert finders.find("vendor/bootstrap/css/bootstrap.min.css")
    assert finders.find("vendor/bootstrap/js/bootstrap.bundle.min.js")


def test_authenticated_pages_are_never_cached(client, coord):  # SEC-3
    client.force_login(coord)
    response = client.get(reverse("admin:index"))
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


def test_anonymous_pages_are_cacheable(client):
    assert "no-store" not in client.get(reverse("home")).headers.get("Cache-Control", "")


def test_healthz_reports_the_database(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_state_changing_methods_are_refused_on_the_home_page(client):
    assert client.post(reverse("home")).status_code == 405
