"""The admin login and staff authenticators (SEC-6, SEC-9; issue 11 #1, issue 12 #12).

Real sign-ins: every test posts to the real login URLs and reads the status, the session, the
message, the mail and the event log.
"""

import re
import time
import uuid
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from core.roles import coordinator_group_sync
from core.staff_security import LOGIN_FAILED
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = reverse("admin:login")


@pytest.fixture
def login_and_mail(django_capture_on_commit_callbacks):
    """An admin login whose tasks enqueued after commit run in-process: mail in mail.outbox."""
    from config.celery import app

    def login(client, email, password, otp=""):
        with django_capture_on_commit_callbacks(execute=True):
            return _login(client, email, password, otp)

    app.conf.task_always_eager = True
    yield login
    app.conf.task_always_eager = False


@pytest.fixture
def coord_without_totp(db):
    user = UserFactory(username=f"coord-{uuid.uuid4().hex[:8]}@example.org", is_staff=True)
    user.groups.add(coordinator_group_sync())
    return user


def _login(client, email, password, otp="", **extra):
    data = {"username": email, "password": password, "otp": otp, "next": "/admin/"}
    return client.post(LOGIN, data, **extra)


def _code(user) -> str:
    """The authenticator's current code, as the staff member's app shows it."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _errors(response) -> list[str]:
    return [str(e) for errors in response.context["form"].errors.values() for e in errors]


def _signed_in(client):
    return client.session.get("_auth_user_id")


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/admin/authenticator/[^\s\"]+/)", message.body)
    assert match, message.body
    return match.group(1)


# One form, one message (SEC-9).


def test_password_and_code_together_sign_staff_in(client, coord):  # SEC-9
    response = _login(client, coord.email, PASSWORD, otp=_code(coord))
    assert response.status_code == 302 and response.url == "/admin/"
    assert _signed_in(client) == str(coord.pk)
    assert DomainEvent.objects.filter(verb="account.logged_in", actor=coord).count() == 1


def test_a_right_password_without_its_code_answers_like_a_wrong_password(client, coord):  # SEC-9
    answers = [
        _login(client, coord.email, "wrong password"),
        _login(client, coord.email, PASSWORD),
        _login(client, coord.email, PASSWORD, otp="000000"),
        _login(client, "nobody@example.org", PASSWORD, otp=_code(coord)),
    ]
    for response in answers:
        assert response.status_code == 200
        assert _errors(response) == [LOGIN_FAILED]
    assert _signed_in(client) is None
    # Every failed attempt is in the audit log, with no address or email (SEC-24).
    failures = DomainEvent.objects.filter(verb="account.login_failed")
    assert failures.count() == 4 and coord.email not in str(list(failures.values("data")))


def test_the_admin_login_asks_for_an_email_not_a_username(client):  # issue 12 #12
    page = client.get(LOGIN).content.decode()
    assert re.search(r'<label for="id_username"[^>]*>Email:</label>', page)
    assert "Username" not in page


# Counting every failure (SEC-6).


def test_failed_admin_logins_count_while_signed_in_as_anyone(client, coord, att_a):  # SEC-6
    client.force_login(att_a.user)
    for _ in range(5):
        _login(client, coord.email, "wrong password")
    response = _login(client, coord.email, PASSWORD, otp=_code(coord))
    assert response.status_code == 429
    assert _signed_in(client) == str(att_a.user.pk)


def test_a_wrong_code_counts_as_a_failure(client, coord):  # SEC-6
    for _ in range(5):
        _login(client, coord.email, PASSWORD, otp="000000")
    assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 429
    assert _signed_in(client) is None


def test_failures_count_per_account_whatever_the_address(client, coord):  # SEC-6
    for i in range(5):
        _login(client, coord.email, "wrong password", REMOTE_ADDR=f"198.51.100.{i}")
    right = _login(client, coord.email, PASSWORD, otp=_code(coord), REMOTE_ADDR="198.51.100.99")
    assert right.status_code == 429


def test_failures_count_per_account_whatever_the_host_port(client, coord):  # SEC-6
    for port in range(8001, 8006):
        _login(client, coord.email.upper(), "wrong password", HTTP_HOST=f"localhost:{port}")
    assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 429


def test_failures_count_per_address_whatever_the_account(client, coord):  # SEC-6
    for i in range(10):
        _login(client, f"nobody-{i}@example.org", "wrong password")
    assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 429


def test_the_site_login_and_the_admin_login_share_the_count(client, coord):  # SEC-6
    for _ in range(3):
        _login(client, coord.email, "wrong password")
    for _ in range(2):
        client.post(reverse("account_login"), {"login": coord.email, "password": "wrong one!"})
    assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 429


def test_a_throttled_account_signs_in_once_the_window_has_passed(client, coord):  # SEC-6
    start = time.time()
    with mock.patch("core.ratelimit._clock", return_value=start) as clock:
        for _ in range(6):
            _login(client, coord.email, "wrong password")
        assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 429
        clock.return_value = start + 5 * 60 + 1
        response = _login(client, coord.email, PASSWORD, otp=_code(coord))
    assert response.status_code == 302
    assert _signed_in(client) == str(coord.pk)


def test_posts_refused_for_their_csrf_token_count_for_nobody(coord):  # SEC-6
    forged = Client(enforce_csrf_checks=True)
    for _ in range(10):
        assert _login(forged, coord.email, "wrong password").status_code == 403
    client = Client()
    assert _login(client, coord.email, PASSWORD, otp=_code(coord)).status_code == 302
    assert _signed_in(client) == str(coord.pk)


# Staff without an authenticator (SEC-9).


def test_staff_without_totp_get_the_same_answer_and_a_link_by_email(
    client, coord_without_totp, login_and_mail, settings
):  # SEC-9
    response = login_and_mail(client, coord_without_totp.email, PASSWORD)
    assert response.status_code == 200 and _errors(response) == [LOGIN_FAILED]
    assert _signed_in(client) is None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [coord_without_totp.email]
    assert settings.SITE_URL + _link(mail.outbox[0]) in mail.outbox[0].body
    # A wrong password sends nothing, and says the same.
    wrong = login_and_mail(client, coord_without_totp.email, "wrong password")
    assert _errors(wrong) == [LOGIN_FAILED] and len(mail.outbox) == 1


def test_the_link_sets_up_the_authenticator_without_asking_the_password_again(
    client, coord_without_totp, login_and_mail
):  # SEC-9, issue 12 #12
    login_and_mail(client, coord_without_totp.email, PASSWORD)
    link = _link(mail.outbox[0])
    assert client.get(link).status_code == 200 and _signed_in(client) is None  # a button
    response = client.post(link)
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_activate_totp"))
    setup = client.get(response.url)
    assert setup.status_code == 200  # the set-up form itself, not the password again
    secret = setup.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post(reverse("mfa_activate_totp"), {"code": code})
    assert Authenticator.objects.filter(user=coord_without_totp).exists()
    assert client.get(reverse("admin:index")).status_code == 200
    assert DomainEvent.objects.filter(verb="staff.enrollment_link_used").count() == 1


def test_a_link_works_once(client, coord_without_totp, login_and_mail):  # SEC-9
    login_and_mail(client, coord_without_totp.email, PASSWORD)
    link = _link(mail.outbox[0])
    client.post(link)
    client.logout()
    response = client.post(link)
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert _signed_in(client) is None


def test_a_forged_or_expired_link_is_refused(client, coord_without_totp, login_and_mail):  # SEC-9
    login_and_mail(client, coord_without_totp.email, PASSWORD)
    link = _link(mail.outbox[0])
    assert client.post(link[:-3] + "xx/").url.startswith(LOGIN)
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 31 * 60):
        assert client.post(link).url.startswith(LOGIN)
    assert _signed_in(client) is None


def test_a_session_without_the_link_cannot_set_up_a_staff_authenticator(
    client, coord_without_totp
):  # SEC-9
    client.force_login(coord_without_totp)  # e.g. signed in by an e-mail confirmation
    for url in (reverse("mfa_activate_totp"), reverse("mfa_index")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(LOGIN)
    client.post(reverse("mfa_activate_totp"), {"code": "123456"})
    assert not Authenticator.objects.filter(user=coord_without_totp).exists()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_staff_with_totp_reach_the_admin(client, coord):
    client.force_login(coord)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_attorney_is_sent_to_the_admin_login(client, att_a):
    client.force_login(att_a.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_staff_cannot_sign_in_at_the_site_login(client, coord):  # SEC-9
    """allauth's login would ask for the code only after a right password: an oracle."""
    right = client.post(reverse("account_login"), {"login": coord.email, "password": PASSWORD})
    wrong = client.post(reverse("account_login"), {"login": coord.email, "password": "wrong one"})
    assert right.status_code == wrong.status_code == 200
    assert right.context["form"].errors == wrong.context["form"].errors
    assert _signed_in(client) is None
