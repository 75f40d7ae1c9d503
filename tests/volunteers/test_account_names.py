"""Names and greetings on allauth's pages and emails (issue 12, item 9).

The internal username is a random handle (`attorney-…`); nobody should ever see it. Emails greet
as Pro Bono Match and link to SITE_URL; the verification page gives a contact and a resend button.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
RESEND = reverse("volunteers:email_verification_resend")


def _signup(client, email):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def _path(message):
    return re.search(r"https?://[^/\s]+(/accounts/\S+)", message.body).group(1)


def test_the_confirmation_email_greets_as_the_site_and_links_to_site_url(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8001"
    _signup(client, "new@example.org")
    body = mail.outbox[-1].body
    username = get_user_model().objects.get(email="new@example.org").username
    assert body.startswith("Hello from Pro Bono Match!")
    assert "http://127.0.0.1:8001/accounts/confirm-email/" in body
    assert username not in body and "testserver" not in body
    assert settings.SUPPORT_EMAIL in body


def test_the_confirmation_page_and_sign_in_message_never_show_the_username(client):
    _signup(client, "new@example.org")
    username = get_user_model().objects.get(email="new@example.org").username
    confirm = _path(mail.outbox[-1])
    page = client.get(confirm).content.decode()
    assert "new@example.org" in page and username not in page and "for user" not in page
    response = client.post(confirm, follow=True)
    shown = response.content.decode()
    assert "Successfully signed in as new@example.org" in shown and username not in shown


def test_the_verification_page_gives_a_contact_and_a_resend_button(client, settings):
    html = client.get(reverse("account_email_verification_sent")).content.decode()
    assert f'href="mailto:{settings.SUPPORT_EMAIL}"' in html
    assert f'action="{RESEND}"' in html and "Send the link again" in html


def test_resend_sends_a_new_link_once_per_address_per_window(client):
    _signup(client, "new@example.org")
    client.logout()
    mail.outbox.clear()
    from django.core.cache import cache

    cache.clear()  # the sign-up's own mail counted toward the per-address limit
    response = client.post(RESEND, {"email": "New@Example.org"}, follow=True)
    assert "a new link is on its way" in response.content.decode()
    assert len(mail.outbox) == 1 and "/accounts/confirm-email/" in mail.outbox[0].body
    client.post(RESEND, {"email": "new@example.org"})
    assert len(mail.outbox) == 1  # allauth's per-address limit (confirm_email: 1/3m/key)


def test_resend_answers_alike_for_unknown_and_confirmed_addresses(client):  # SEC-7
    user = get_user_model().objects.create_user("attorney-x", "done@example.org", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    answers = {
        email: client.post(RESEND, {"email": email}, follow=True).content.decode()
        for email in ("done@example.org", "nobody@example.org")
    }
    assert mail.outbox == []
    assert all("a new link is on its way" in html for html in answers.values())


def test_resend_is_rate_limited_per_ip(client):
    for n in range(5):
        client.post(RESEND, {"email": f"x{n}@example.org"})
    html = client.post(RESEND, {"email": "y@example.org"}, follow=True).content.decode()
    assert "Too many requests" in html


def test_resend_with_a_bad_address_is_a_message_not_an_error(client):
    response = client.post(RESEND, {"email": "not an address"}, follow=True)
    assert response.status_code == 200 and "Enter the email address" in response.content.decode()
