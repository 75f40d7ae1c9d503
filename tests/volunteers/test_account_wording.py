"""allauth's pages and e-mails in the site's sentence case ("Sign in", not "Sign In").

allauth writes its headings, titles, buttons and labels in Title Case; the site's own catalog
(locale/en/LC_MESSAGES/django.po, settings.LOCALE_PATHS) words them in sentence case without
copying its templates. These tests walk every allauth page this site uses and read what a
visitor reads there.
"""

import re
from html import unescape
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
CATALOG = Path(settings.BASE_DIR) / "locale/en/LC_MESSAGES/django.po"
# Words that keep their capital inside a sentence.
PROPER = {"Pro", "Bono", "Match", "I", "TOTP", "QR"}
# What a visitor reads as a heading, a title, a button or a label.
READ = re.compile(
    r"<(title|h1|h2|h3|button|label|legend)\b[^>]*>(.*?)</\1>"
    r'|<a\b[^>]*class="[^"]*\bbtn\b[^"]*"[^>]*>(.*?)</a>',
    re.S,
)


def _catalog() -> list[tuple[str, str]]:
    return re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', CATALOG.read_text(), re.M)


def _title_cased(html: str) -> list[str]:
    """Each heading, title, button or label with a capital past its first word."""
    found = []
    for match in READ.finditer(html):
        inner = match.group(2) if match.group(1) else match.group(3)
        text = " ".join(unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        words = text.split(" ")[1:]
        if any(w[:1].isupper() and w.strip("?:.,()") not in PROPER for w in words):
            found.append(text)
    return found


def _user(*, totp: bool = False):
    user = UserFactory(username="attorney-ana", email="ana@example.org")
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if totp:
        TOTP.activate(user, generate_totp_secret())
        RecoveryCodes.activate(user)
    return user


def _reauthenticated(client, user):
    client.force_login(user)
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302


def _assert_sentence_case(client, paths):
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _title_cased(response.content.decode()) == [], path


def test_the_catalog_is_compiled_and_read_before_allauths():
    """Every entry of the .po is what the running site says: the .mo was compiled from it."""
    entries = _catalog()
    assert len(entries) > 30
    with translation.override(settings.LANGUAGE_CODE):
        assert [(msgid, translation.gettext(msgid)) for msgid, _ in entries] == entries


def test_the_sign_in_sign_up_and_password_reset_pages_are_in_sentence_case(client):
    bad_key = reverse("account_reset_password_from_key", kwargs={"uidb36": "1", "key": "x-y"})
    _assert_sentence_case(
        client,
        [
            reverse("account_login"),
            reverse("account_signup"),
            reverse("account_reset_password"),
            reverse("account_reset_password_done"),
            bad_key,
        ],
    )
    page = " ".join(client.get(reverse("account_reset_password")).content.decode().split())
    assert "<title> Password reset · Pro Bono Match</title>" in page
    assert "> Reset my password </button>" in page
    assert "Link not valid" in client.get(bad_key).content.decode()  # was "Bad Token"


def test_the_account_pages_behind_a_sign_in_are_in_sentence_case(client):
    user = _user()
    client.force_login(user)
    reauthenticate = client.get(reverse("account_reauthenticate")).content.decode()
    assert "Confirm access" in reauthenticate and "Confirm Access" not in reauthenticate
    _assert_sentence_case(client, [reverse("account_reauthenticate"), reverse("account_logout")])
    _reauthenticated(client, user)
    _assert_sentence_case(
        client,
        [
            reverse("account_change_password"),
            reverse("account_email"),
            reverse("mfa_index"),
            reverse("mfa_activate_totp"),
        ],
    )
    assert "Activate authenticator app" in client.get(reverse("mfa_activate_totp")).content.decode()


def test_the_two_factor_pages_are_in_sentence_case(client):
    user = _user(totp=True)
    _reauthenticated(client, user)
    _assert_sentence_case(
        client,
        [
            reverse("mfa_index"),
            reverse("mfa_deactivate_totp"),
            reverse("mfa_view_recovery_codes"),
            reverse("mfa_generate_recovery_codes"),
        ],
    )
    client.logout()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    _assert_sentence_case(client, [reverse("mfa_authenticate")])


def test_confirming_access_with_a_code_is_in_sentence_case(client):
    client.force_login(_user())
    _assert_sentence_case(client, [reverse("account_request_reauthentication_code")])
    response = client.post(
        reverse("account_request_reauthentication_code"), {"recipient": "ana@example.org"}
    )
    assert response.status_code == 302
    _assert_sentence_case(client, [response.url])
    assert "Enter sign-in code" in client.get(response.url).content.decode()
    assert mail.outbox[-1].subject == "[Pro Bono Match] Sign-in code"


def test_allauths_e_mail_subjects_are_in_sentence_case(client):
    _user()
    client.post(reverse("account_reset_password"), {"email": "ana@example.org"})
    assert mail.outbox[-1].subject == "[Pro Bono Match] Password reset email"


def test_the_check_finds_title_case():
    """The check itself: allauth's own wording fails it, the catalog's passes."""
    assert _title_cased("<h1>Password Reset</h1><button>Sign In</button>") == [
        "Password Reset",
        "Sign In",
    ]
    assert (
        _title_cased('<title>Password reset · Pro Bono Match</title><a class="btn">Sign in</a>')
        == []
    )
