"""Staff security in front of the admin: MFA (SEC-9) and a throttled admin login (SEC-6)."""

import time
import uuid
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.urls import reverse

from core import staff_security
from core.roles import coordinator_group_sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def coord_without_totp(db):
    user = UserFactory(username=f"coord-{uuid.uuid4().hex[:8]}@example.org", is_staff=True)
    user.groups.add(coordinator_group_sync())
    return user


def test_staff_without_totp_are_sent_to_mfa_setup_never_the_admin(client, coord_without_totp):
    client.force_login(coord_without_totp)
    for url in (reverse("admin:index"), reverse("admin:matching_match_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("mfa_activate_totp"))


def test_staff_with_totp_reach_the_admin(client, coord):
    client.force_login(coord)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_attorney_is_not_sent_to_mfa_setup_by_the_admin(client, att_a):
    client.force_login(att_a.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def _fresh_window() -> float:
    """A window no earlier run used: the counters live in the shared cache, not the test DB."""
    return float((10**7 + uuid.uuid4().int % 10**7) * staff_security.WINDOW_SECONDS)


def _login(client, username, password, otp=""):
    data = {"username": username, "password": password, "otp": otp, "next": "/admin/"}
    return client.post(reverse("admin:login"), data)


def _code(user) -> str:
    """The authenticator's current code, as the staff member's app shows it."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_the_admin_login_asks_staff_with_totp_for_the_code(client, coord):
    response = _login(client, coord.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert _login(client, coord.username, PASSWORD, otp="000000").status_code == 200
    response = _login(client, coord.username, PASSWORD, otp=_code(coord))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(coord.pk)


def test_admin_login_is_throttled_inside_a_window_and_accepted_after(client, coord):
    username = coord.username
    start = _fresh_window()
    with mock.patch.object(staff_security, "_now", return_value=start):
        for _ in range(6):
            _login(client, username, "wrong password")
        response = _login(client, username, PASSWORD, otp=_code(coord))
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
    later = start + staff_security.WINDOW_SECONDS
    with mock.patch.object(staff_security, "_now", return_value=later):
        response = _login(client, username, PASSWORD, otp=_code(coord))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(coord.pk)


def test_a_right_password_is_not_counted_as_a_failure(client, coord_without_totp):
    with mock.patch.object(staff_security, "_now", return_value=_fresh_window()):
        for _ in range(7):
            client.logout()
            response = _login(client, coord_without_totp.username, PASSWORD)
            assert response.status_code == 302  # then on to TOTP set-up, by the middleware


def test_staff_signing_in_without_totp_reach_the_totp_setup_page(client, coord_without_totp):
    with mock.patch.object(staff_security, "_now", return_value=_fresh_window()):
        response = _login(client, coord_without_totp.username, PASSWORD)
    response = client.get(response.url, follow=True)
    assert response.status_code == 200
    final = response.redirect_chain[-1][0] if response.redirect_chain else ""
    assert reverse("mfa_activate_totp") in final or "reauthenticate" in final


def test_staff_set_up_totp_then_reach_the_admin(client, coord_without_totp):
    client.force_login(coord_without_totp)
    setup = client.get(reverse("admin:index"), follow=True)
    if "reauthenticate" in setup.redirect_chain[-1][0]:  # the password again, then the form
        client.post(setup.redirect_chain[-1][0], {"password": PASSWORD})
        setup = client.get(reverse("mfa_activate_totp"))
    secret = setup.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post(reverse("mfa_activate_totp"), {"code": code})
    assert Authenticator.objects.filter(user=coord_without_totp).exists()
    assert client.get(reverse("admin:index")).status_code == 200
