import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.urls import reverse

from cases.models import CaseRequest
from core.dashboard import _figures_key
from core.tasks import refresh_need_dashboard
from matching.models import Match
from matching.services import match_accept, match_approve, match_attest_no_conflict, match_propose
from tests.factories import (
    AttorneyFactory,
    CaseRequestFactory,
    MatchFactory,
    OrganizationFactory,
    PledgeFactory,
    partner_user,
)
from tests.interpreters.people import interpreter_create
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db


def _total(response, name):
    html = response.content.decode()
    start = html.index(f'data-total="{name}">') + len(f'data-total="{name}">')
    return html[start : html.index("<", start)]


@pytest.fixture(autouse=True)
def no_cached_figures():
    """The home page's totals are cached per database name: no other test's may show through."""
    cache.delete(_figures_key())
    yield
    cache.delete(_figures_key())


@pytest.mark.smoke
def test_home_page_shows_the_totals(client, att_a, coord):
    CaseRequestFactory.create_batch(3)
    AttorneyFactory.create_batch(2)
    AttorneyFactory(verification="pending")
    MatchFactory(status=Match.Status.DECLINED, decline_reason="language")  # its case is open
    _represented(att_a, coord)
    PledgeFactory(amount=1200)
    PledgeFactory(amount=300)
    PledgeFactory(amount=999, status="pending")  # not yet approved: not counted
    response = client.get(reverse("home"))  # a cold cache: computed once, then cached
    assert response.status_code == 200
    assert _total(response, "open_cases") == "4"
    assert _total(response, "volunteers") == "4"
    assert _total(response, "represented") == "1"
    assert "people represented by volunteers" in response.content.decode()
    assert _total(response, "pledged_hours") == "1,500"


def _represented(attorney, coordinator) -> Match:
    match = offer_create(attorney=attorney, coordinator=coordinator)
    match_attest_no_conflict(match=match, user=attorney.user)
    return match_accept(match=match, user=attorney.user)


def test_the_public_figure_counts_people_represented_not_proposals(client, att_a, coord):
    """A run's proposals, approved and offered matches are not representation: one run made
    the public figure jump from 39 to 318 when it counted active matches."""
    _represented(att_a, coord)
    for _ in range(3):  # unreviewed proposals, as a matching run leaves them
        match_propose(
            case=CaseRequestFactory(), attorney=AttorneyFactory(), score=500, breakdown={"x": 1}
        )
    approved = match_propose(
        case=CaseRequestFactory(), attorney=AttorneyFactory(), score=500, breakdown={"x": 1}
    )
    match_approve(match=approved, actor=coord)
    offer_create(attorney=AttorneyFactory(), coordinator=coord)
    closed = CaseRequestFactory(status=CaseRequest.Status.CLOSED)
    MatchFactory(case=closed, status=Match.Status.COMPLETED)  # no longer represented "now"
    refresh_need_dashboard.apply()
    response = client.get(reverse("home"))
    assert _total(response, "represented") == "1"
    assert "active matches" not in response.content.decode()


def test_home_page_totals_come_from_the_background_refresh(client):
    CaseRequestFactory.create_batch(2)
    refresh_need_dashboard.apply()  # what the beat schedule runs
    CaseRequestFactory.create_batch(3)
    assert _total(client.get(reverse("home")), "open_cases") == "2"
    refresh_need_dashboard.apply()
    assert _total(client.get(reverse("home")), "open_cases") == "5"


def test_home_page_never_counts_the_cases(client, django_assert_num_queries):
    # Issue 11 #16: a COUNT over the cases table per anonymous visit (170 ms at 500,000 cases).
    CaseRequestFactory.create_batch(20)
    refresh_need_dashboard.apply()
    with django_assert_num_queries(0):
        assert client.get(reverse("home")).status_code == 200


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


# The home page's calls to action: (data-cta, href) in page order.


def _calls_to_action(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    return [(cta, href) for href, cta in re.findall(r'href="([^"]+)" data-cta="(\w+)"', html)]


def test_a_stranger_is_asked_to_volunteer_sign_in_or_pledge(client):
    response = client.get(reverse("home"))
    assert _calls_to_action(response) == [
        ("signup", reverse("account_signup")),
        ("login", reverse("account_login")),
        ("pledge", reverse("pledges:new")),
        ("interpreter", reverse("interpreters:join")),
    ]
    html = response.content.decode()
    assert 'btn btn-primary btn-lg px-4" href="/accounts/signup/' in html  # the primary one
    assert "How volunteering works" in html
    for _, href in _calls_to_action(response):
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize(
    ("who", "lands"),
    [
        ("attorney", "volunteers:dashboard"),
        ("coordinator", "admin:index"),
        ("partner", "cases:list"),
        ("interpreter", "interpreters:dashboard"),
    ],
)
def test_a_signed_in_user_is_pointed_to_their_own_page(client, att_a, coord, who, lands):
    user = {
        "attorney": lambda: att_a.user,
        "coordinator": lambda: coord,
        "partner": lambda: partner_user(organization=OrganizationFactory()),
        "interpreter": lambda: interpreter_create().user,
    }[who]()
    client.force_login(user)
    response = client.get(reverse("home"))
    [(cta, href)] = _calls_to_action(response)  # no sign-up, sign-in or pledge call
    assert cta == "dashboard" and "How volunteering works" not in response.content.decode()
    followed = client.get(href, follow=True)  # an interpreter passes through the attorneys'
    assert followed.status_code == 200
    assert followed.request["PATH_INFO"] == reverse(lands)
