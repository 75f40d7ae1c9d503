"""Hostile input on the account pages behind a re-authentication (SEC-17): the email address
(change, re-send, cancel, make primary), the password, TOTP, recovery codes and the account's
deletion, walked as tests/test_hostile_input.py walks the site, by an attorney who has just
re-entered their password (allauth's reauthentication flow, as a person would), once without
and once with TOTP. Never a 500, and the account as it was: its addresses, authenticators,
password hash, the user itself. Only a form with nothing to type whose post is the action
itself (turn TOTP off, new recovery codes) may change it, by redirecting.

The email page's buttons are not fields the walk fills: each is sent with an address that is
not the person's to act on (junk, their own primary in capitals, another person's, the change
still pending for "make primary"). Adding another person's address is a change allauth makes on
purpose (ACCOUNT_PREVENT_ENUMERATION: refusing would tell the address is taken): it must stay an
unconfirmable request, the other person's address as it was.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests import test_hostile_input as hostile
from tests.factories import AttorneyFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests/factories.py
PENDING = "walker-new@example.org"
# The pages each walk opens: with TOTP on, those that differ (and the email page's pending
# change); the others once, from the walk without.
PAGES = {
    "password": ["account_email", "account_change_password", "account_set_password",
                 "account_reauthenticate", "mfa_index", "mfa_activate_totp",
                 "volunteers:account", "volunteers:account_delete"],
    "totp": ["account_email", "mfa_reauthenticate", "mfa_index", "mfa_deactivate_totp",
             "mfa_view_recovery_codes", "mfa_generate_recovery_codes",
             "mfa_download_recovery_codes"],
}  # fmt: skip
# Forms with nothing to type: their post is the action (behind the re-authentication).
ACTIONS = {reverse("mfa_deactivate_totp"), reverse("mfa_generate_recovery_codes")}
# What each actor's walk must have posted to: proof it ran behind the re-authentication.
PROTECTED = {
    "password": {"account_email", "account_change_password", "mfa_activate_totp"},
    "totp": {"account_email", "mfa_deactivate_totp", "mfa_generate_recovery_codes"},
}  # fmt: skip


def _accounts() -> tuple:
    """Every user, address and authenticator, as they are."""
    users = get_user_model().objects.order_by("pk")
    addresses = EmailAddress.objects.order_by("pk")
    authenticators = Authenticator.objects.order_by("pk")
    return (
        list(users.values_list("pk", "password", "email")),
        list(addresses.values_list("user", "email", "verified", "primary")),
        list(authenticators.values_list("user", "type", "data")),
    )


class AccountWalk(hostile.Walk):
    """The hostile walk, where no request but the form-less actions may change an account."""

    def __init__(self, client):
        super().__init__(client)
        self.posted: set[str] = set()

    def state(self):
        return super().state(), _accounts()

    def succeeded(self, url, response) -> bool:
        return url in ACTIONS and 300 <= response.status_code < 400

    def _request(self, method, url, data, raw):
        if method == "POST":
            self.posted.add(url)
        return super()._request(method, url, data, raw)

    def email_buttons(self, *, own: str, other: str, pending: str):
        url = reverse("account_email")
        junk = self.values(hostile.TEXT + hostile.ID)
        for button, extra in [("action_add", [own.upper()]), ("action_send", []),
                              ("action_remove", [own.upper(), other]),
                              ("action_primary", [pending, own.upper(), other])]:  # fmt: skip
            for email in junk + extra:
                self.send("POST", url, {button: "", "email": email})


@pytest.fixture
def people():
    owner = AttorneyFactory(user__username="walker@example.org").user
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    other = AttorneyFactory(user__username="bystander@example.org").user
    EmailAddress.objects.create(user=other, email=other.email, verified=True, primary=True)
    return owner, other


@pytest.mark.timeout(600)
@pytest.mark.parametrize("actor", ["password", "totp"])
def test_no_hostile_input_fails_or_changes_an_account(people, actor):  # SEC-17
    owner, other = people
    if actor == "totp":
        TOTP.activate(owner, generate_totp_secret())
        RecoveryCodes.activate(owner)
        # A change of address waiting for its confirmation: its own form on the email page. Not
        # for the other walk: allauth offers TOTP to no one with an unconfirmed address.
        EmailAddress.objects.create(user=owner, email=PENDING)
    walk = AccountWalk(Client())
    walk.client.force_login(owner)
    reauthenticated = walk.client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert reauthenticated.status_code == 302
    for name in PAGES[actor]:
        walk.page(reverse(name))
    walk.email_buttons(own=owner.email, other=other.email, pending=PENDING)
    assert walk.failed == []
    assert {reverse(name) for name in PROTECTED[actor]} <= walk.posted
    # Still re-authenticated at the end: the forms were reached, not the password prompt.
    protected = "mfa_deactivate_totp" if actor == "totp" else "mfa_activate_totp"
    assert walk.client.get(reverse(protected)).status_code == 200


def test_adding_another_persons_address_never_makes_it_the_adders(people):  # SEC-17
    owner, other = people
    client = Client()
    client.force_login(owner)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("account_email"), {"action_add": "", "email": other.email})
    assert response.status_code == 302  # as for a free address: nothing tells it is taken
    link = re.search(r"https?://[^/\s]+(/accounts/\S+)", mail.outbox[-1].body).group(1)
    for person in (None, other, owner):  # whoever opens the link the other person received
        opener = Client()
        if person is not None:
            opener.force_login(person)
        assert opener.get(link).status_code == 200
        assert opener.post(link).status_code == 302
    addresses = EmailAddress.objects.filter(email=other.email).order_by("pk")
    assert list(addresses.values_list("user", "verified")) == [
        (other.pk, True),
        (owner.pk, False),
    ]
