"""Attorney accounts through allauth: signup, verification, login, reset, email change, MFA."""

import re
import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from core.middleware import SIGNED_IN_AT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def _verified_user(email="ana@example.org"):
    user = UserFactory(username=f"attorney-{email.split('@')[0]}", email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _signup(client, email, password=PASSWORD):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


def _link(message):
    return re.search(r"https?://[^/\s]+(/accounts/\S+)", message.body).group(1)


def test_signup_requires_email_verification_then_lands_on_the_profile(client):
    response = _signup(client, "new@example.org")
    assert response.url == reverse("account_email_verification_sent")
    user = get_user_model().objects.get(email="new@example.org")
    assert not user.username.count("@")  # a random handle, not the address (SEC-25)
    assert "_auth_user_id" not in client.session  # not signed in before verifying
    assert client.get(reverse("volunteers:dashboard")).status_code == 302
    confirm = _link(mail.outbox[-1])
    assert client.get(confirm).status_code == 200
    response = client.post(confirm)
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(response.url, follow=True).request["PATH_INFO"] == reverse(
        "volunteers:profile_step", args=["about"]
    )


def test_a_confirmation_link_opened_again_says_the_address_is_confirmed(client):
    _signup(client, "again@example.org")
    confirm = _link(mail.outbox[-1])
    client.post(confirm)  # confirmed, and signed in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION)
    signed_in = client.get(confirm).content.decode()
    assert "already confirmed" in signed_in and "expired" not in signed_in
    assert f'href="{reverse("volunteers:dashboard")}"' in signed_in
    client.logout()
    signed_out = client.get(confirm).content.decode()
    assert "already confirmed" in signed_out and "expired" not in signed_out
    assert f'href="{reverse("account_login")}"' in signed_out


def test_a_forged_confirmation_link_is_still_not_valid(client):
    _verified_user("ana@example.org")
    url = reverse("account_confirm_email", args=["MQ:forged:signature"])
    body = client.get(url).content.decode()
    assert "expired or is not valid" in body and "already confirmed" not in body


def test_signup_with_a_taken_email_looks_the_same(client):  # SEC-7
    _verified_user("taken@example.org")
    fresh = _signup(client, "fresh@example.org")
    client.logout()
    taken = _signup(client, "taken@example.org")
    assert (fresh.status_code, fresh.url) == (taken.status_code, taken.url)
    assert get_user_model().objects.filter(email="taken@example.org").count() == 1
    assert "already" in mail.outbox[-1].body.lower()  # the owner is told by email instead


def test_password_reset_does_not_reveal_accounts(client):  # SEC-7
    _verified_user("known@example.org")
    known = client.post(reverse("account_reset_password"), {"email": "known@example.org"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)


def test_password_reset_link_sets_a_new_password(client):
    user = _verified_user()
    client.post(reverse("account_reset_password"), {"email": user.email})
    response = client.get(_link(mail.outbox[-1]), follow=True)
    new = "a long passphrase nobody guesses"
    response = client.post(response.request["PATH_INFO"], {"password1": new, "password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


@pytest.mark.parametrize("password", ["short", "password1234", "123456789012"])
def test_weak_passwords_are_refused(client, password):  # SEC-8
    response = _signup(client, "weak@example.org", password)
    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="weak@example.org").exists()


def test_login_rotates_the_session(client):  # SEC-10
    _verified_user()
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("account_login"), {"login": "ana@example.org", "password": PASSWORD})
    assert client.session.get("_auth_user_id")
    assert client.session.session_key != before


def test_failed_logins_are_throttled_within_a_window(client):  # SEC-6
    _verified_user()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "ana@example.org", "password": "wrong!"})
    response = client.post(
        reverse("account_login"), {"login": "ana@example.org", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def test_changing_email_needs_reauthentication(client):
    user = _verified_user()
    client.force_login(user)  # signed in without a fresh password entry
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "other@example.org"}
    )
    assert response.status_code == 302 and reverse("account_reauthenticate") in response.url
    assert not EmailAddress.objects.filter(email="other@example.org").exists()


def _reauthenticate(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def test_email_change_after_reauthenticating_sends_a_verification(client):
    user = _verified_user()
    _reauthenticate(client, user)
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "other@example.org"}
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="other@example.org").verified is False
    assert "other@example.org" in mail.outbox[-1].to


def test_attorneys_can_set_up_totp(client):  # SEC-9: available to attorneys
    user = _verified_user()
    _reauthenticate(client, user)
    assert client.get(reverse("mfa_index")).status_code == 200
    html = client.get(reverse("mfa_activate_totp")).content.decode()
    assert "data:image/svg+xml" in html or "<svg" in html  # the QR code, no inline script


def test_account_pages_carry_the_strict_csp(client):  # SEC-2
    for name in ("account_login", "account_signup", "account_reset_password"):
        response = client.get(reverse(name))
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert "<script>" not in response.content.decode()
        assert 'style="' not in response.content.decode()


def test_signup_cannot_set_staff_flags(client):  # SEC-14
    client.post(
        reverse("account_signup"),
        {"email": "sneaky@example.org", "password1": PASSWORD, "password2": PASSWORD,
         "is_staff": "on", "is_superuser": "on"},
    )  # fmt: skip
    user = get_user_model().objects.get(email="sneaky@example.org")
    assert not user.is_staff and not user.is_superuser


def test_logout_ends_the_session_and_an_old_cookie_is_worthless(client, settings):  # SEC-10
    user = _verified_user()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    old = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("account_logout"))
    client.cookies[settings.SESSION_COOKIE_NAME] = old
    response = client.get(reverse("volunteers:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_sessions_expire_when_idle(client, settings):  # SEC-10
    assert settings.SESSION_SAVE_EVERY_REQUEST  # every request pushes the idle deadline back
    user = _verified_user()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert 0 < client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE


def test_sign_ins_and_refusals_are_in_the_audit_log(client):  # SEC-24
    from core.models import DomainEvent

    user = _verified_user()
    client.post(reverse("account_login"), {"login": user.email, "password": "wrong password!"})
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    refused = DomainEvent.objects.get(verb="account.login_failed")
    assert refused.actor is None and user.email not in str(refused.data)
    assert DomainEvent.objects.filter(verb="account.logged_in", actor=user).count() == 1


def test_sign_in_lands_each_kind_of_user_on_their_page(client):
    from cases.models import PartnerMembership
    from tests.factories import OrganizationFactory

    attorney = _verified_user()
    response = client.post(
        reverse("account_login"), {"login": attorney.email, "password": PASSWORD}
    )
    assert response.url == reverse("volunteers:dashboard")
    client.logout()
    partner = _verified_user("intake@example.org")
    PartnerMembership.objects.create(user=partner, organization=OrganizationFactory())
    response = client.post(reverse("account_login"), {"login": partner.email, "password": PASSWORD})
    assert response.url == reverse("cases:list")


def test_sessions_end_a_fixed_time_after_sign_in_however_active(client, settings):  # SEC-10
    user = _verified_user()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    login = reverse("account_login")
    signed_in_at = client.session[SIGNED_IN_AT]
    assert abs(signed_in_at - time.time()) < 60

    with mock.patch("core.middleware.time.time", return_value=signed_in_at + 3600):
        page = client.get(reverse("volunteers:dashboard"))  # on to the profile steps: signed in
    assert not page.url.startswith(login)
    late = signed_in_at + settings.SESSION_ABSOLUTE_SECONDS + 1
    with mock.patch("core.middleware.time.time", return_value=late):
        response = client.get(reverse("volunteers:dashboard"))

    assert response.status_code == 302 and response.url.startswith(login)
    assert SIGNED_IN_AT not in client.session  # flushed, not just hidden
    assert client.get(reverse("volunteers:dashboard")).url.startswith(login)  # and stays ended


# Every e-mailed link starts at SITE_URL, whatever Host the request came with (issue 11 #13).
ODD_HOST = {"HTTP_HOST": "localhost:8101"}


def _links(message) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", message.body)


def _only_site_links(message, settings):
    links = _links(message)
    assert links, message.body
    # The greeting's footer names the site itself (SITE_URL); every other link starts there.
    site = settings.SITE_URL.rstrip("/")
    assert all(link == site or link.startswith(site + "/") for link in links), links
    assert "8101" not in message.body


def test_the_password_reset_link_uses_site_url_not_the_host(client, settings):  # SEC-7
    _verified_user("known@example.org")
    client.post(reverse("account_reset_password"), {"email": "known@example.org"}, **ODD_HOST)
    assert len(mail.outbox) == 1
    _only_site_links(mail.outbox[0], settings)
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_the_sign_up_confirmation_link_uses_site_url(client, settings):  # SEC-7
    client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        **ODD_HOST,
    )
    assert len(mail.outbox) == 1
    _only_site_links(mail.outbox[0], settings)
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_the_already_registered_and_unknown_account_mails_use_site_url(client, settings):
    _verified_user("taken@example.org")
    data = {"email": "taken@example.org", "password1": PASSWORD, "password2": PASSWORD}
    client.post(reverse("account_signup"), data, **ODD_HOST)
    client.post(reverse("account_reset_password"), {"email": "ghost@example.org"}, **ODD_HOST)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        _only_site_links(message, settings)
