"""A few demo volunteers can sign in under DEBUG (make run), with the password the banner shows:
an attorney with an offer waiting, one with an accepted case, an interpreter with a team offer
and that team's attorney. With DEBUG off nobody of the demo world can sign in."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.management import call_command

from core.demo import DEMO_DOMAIN
from core.demo_coordinator import COORDINATOR_EMAIL
from core.demo_volunteers import demo_volunteers

pytestmark = pytest.mark.django_db(transaction=True)  # passwords are remembered on commit
# Large enough for a K'iche' or Mam team (tests/interpreters/test_demo.py).
WORLD = {"attorneys": 60, "cases": 400, "organizations": 4, "pledges": 2}
ROLES = [
    "attorney, accepted case", "attorney, offer waiting", "attorney, offer waiting",
    "interpreter",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _demo_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # as under make run (pytest-django turns it off)


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **WORLD)
    return out.getvalue()


def _banner(*args) -> str:
    out = StringIO()
    call_command("demo_coordinator", *args, stdout=out)
    return out.getvalue()


def _volunteer_password(banner: str) -> str:
    """The last "password" line of the banner: the volunteers' (the coordinator's comes first)."""
    lines = [line.split() for line in banner.splitlines() if line.strip().startswith("password")]
    return lines[-1][1]


def _sign_in(client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password}, follow=True)


def test_the_banner_lists_volunteers_who_sign_in_with_its_password(client):
    _seed()
    banner = _banner()
    listed = demo_volunteers()
    assert sorted(role for role, _ in listed) == ROLES
    password = _volunteer_password(banner)
    for role, email in listed:
        assert email in banner and email.endswith("@" + DEMO_DOMAIN)
        client.logout()
        landed = _sign_in(client, email, password)
        assert landed.redirect_chain, role
        home = "/interpreter/" if role == "interpreter" else "/attorney/"
        assert landed.redirect_chain[-1][0] == home


def test_the_attorney_with_an_offer_finds_it_on_their_dashboard(client):
    _seed()
    password = _volunteer_password(_banner())
    email = next(e for role, e in demo_volunteers() if role == "attorney, offer waiting")
    page = _sign_in(client, email, password).content.decode()
    assert "/attorney/offers/" in page


def test_the_interpreter_finds_their_team_offer(client):
    _seed()
    password = _volunteer_password(_banner())
    email = next(e for role, e in demo_volunteers() if role == "interpreter")
    assert "Review team offer" in _sign_in(client, email, password).content.decode()


def test_seeding_again_keeps_the_accounts_and_their_password(client):
    first = _seed()
    assert "Volunteer accounts (DEBUG only)" in first
    password = _volunteer_password(_banner())
    listed = demo_volunteers()
    assert "Volunteer accounts" not in _seed()
    assert demo_volunteers() == listed and _volunteer_password(_banner()) == password


def test_reset_password_gives_the_volunteers_a_new_one(client):
    _seed()
    old = _volunteer_password(_banner())
    new = _volunteer_password(_banner("--reset-password"))
    user = get_user_model().objects.get(email=demo_volunteers()[0][1])
    assert new != old and user.check_password(new) and not user.check_password(old)


def test_without_debug_no_demo_volunteer_can_sign_in(settings):
    settings.DEBUG = False
    assert "Volunteer accounts" not in _seed()
    volunteers = (
        get_user_model()
        .objects.filter(email__endswith="@" + DEMO_DOMAIN)
        .exclude(username=COORDINATOR_EMAIL)
    )
    assert volunteers.count() > 60  # the attorneys and the interpreters
    assert all(
        p.startswith(UNUSABLE_PASSWORD_PREFIX)
        for p in volunteers.values_list("password", flat=True)
    )
    assert demo_volunteers() == []
