"""The account forms' own limits from one address (ACCOUNT_RATE_LIMITS, SEC-6, SEC-7).

The sign-in limits are in tests/core/test_ratelimit.py and the "send the link again" button's in
tests/volunteers/test_account_names.py; these are the other doors a script would lean on: sign-up
(accounts by the hundred) and password reset (mail to someone else's inbox). Each test sends
one request more than its limit allows.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.volunteers.test_accounts import PASSWORD, _verified_user

pytestmark = pytest.mark.django_db


def _signup(client, n):
    data = {"email": f"new{n}@example.org", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("account_signup"), data)


def test_sign_ups_from_one_address_stop_at_twenty_a_minute(client):  # SEC-6
    for n in range(20):
        assert _signup(client, n).status_code == 302
        client.logout()
    refused = _signup(client, 20)
    assert refused.status_code == 429
    assert get_user_model().objects.filter(email__startswith="new").count() == 20


def test_password_reset_for_one_account_stops_at_five_a_minute(client):  # SEC-6, SEC-7
    user = _verified_user()
    for _ in range(5):
        client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 5
    refused = client.post(reverse("account_reset_password"), {"email": user.email})
    assert refused.status_code == 429
    assert len(mail.outbox) == 5  # nothing more sent to that inbox inside the minute
