"""`manage.py demo_coordinator`: the sign-in banner of make run (issue 12, item 12)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.demo_coordinator import COORDINATOR_EMAIL
from core.models import DomainEvent

pytestmark = pytest.mark.django_db(transaction=True)  # the password is remembered on commit


@pytest.fixture(autouse=True)
def _demo_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # as under make run (pytest-django turns it off)


def _run(*args) -> str:
    out = StringIO()
    call_command("demo_coordinator", *args, stdout=out)
    return out.getvalue()


def _seeded_password() -> str:
    out = StringIO()
    call_command("seed_demo", attorneys=2, cases=5, organizations=2, pledges=1, stdout=out)
    return out.getvalue().split(f"{COORDINATOR_EMAIL} / ")[1].split()[0]


def test_the_banner_shows_the_email_and_password_on_every_run(settings):
    password = _seeded_password()
    settings.SITE_URL = "http://127.0.0.1:8001"
    for _ in range(2):  # a restart shows it again
        banner = _run()
        assert COORDINATOR_EMAIL in banner and password in banner
        assert "http://127.0.0.1:8001/admin/" in banner
        # Staff must set up an authenticator: the banner says how the first sign-in goes.
        assert "leave the authenticator code empty" in banner and "prints it here" in banner


def test_reset_password_sets_a_new_one_that_signs_in():
    old = _seeded_password()
    banner = _run("--reset-password")
    user = get_user_model().objects.get(username=COORDINATOR_EMAIL)
    new = banner.split("password")[1].split()[0]
    assert new != old and user.check_password(new) and not user.check_password(old)
    assert new in _run()  # remembered for the next banner
    assert DomainEvent.objects.filter(verb="user.password_reset").count() == 1


def test_a_password_changed_elsewhere_is_not_shown_as_if_it_worked():
    old = _seeded_password()
    user = get_user_model().objects.get(username=COORDINATOR_EMAIL)
    user.set_password("changed in the admin")
    user.save()
    banner = _run()
    assert old not in banner and "--reset-password" in banner


def test_it_refuses_without_debug_or_before_seeding(settings):
    with pytest.raises(CommandError, match="seed_demo"):
        _run()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        _run()
