"""Passwords are stored with Argon2id; older hashes still sign in and are upgraded (SEC-8)."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

import config.settings as project_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def production_hashers(settings):
    """The project's own list (the suite's autouse fixture swaps in a fast one)."""
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def test_new_passwords_are_hashed_with_argon2(production_hashers):
    assert make_password(PASSWORD).startswith("argon2$argon2id$")


OWASP = "m=47104,t=1,p=1"  # the Password Storage Cheat Sheet's first Argon2id configuration


def test_argon2id_uses_owasps_cost_in_one_lane(production_hashers):
    # argon2$argon2id$v=19$m=47104,t=1,p=1$salt$hash: each sign-in takes one core, not all.
    assert make_password(PASSWORD).split("$")[3] == OWASP


def test_a_hash_with_djangos_argon2_cost_signs_in_and_is_rehashed(production_hashers, att_a):
    user = att_a.user
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert "m=102400,t=2,p=8" in user.password  # as stored before this change
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = Client().post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302 and response.url == reverse("volunteers:dashboard")
    user.refresh_from_db()
    assert user.password.split("$")[3] == OWASP


def test_a_pbkdf2_hash_signs_in_and_is_rehashed_with_argon2(production_hashers, att_a):
    user = att_a.user
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = Client().post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("vqmtz rokb", "password_too_short"),  # 10 characters: the minimum is 12
        ("wjx fep quzb", None),  # 12 characters, nothing else asked of it
        ("the tide comes in slowly over the flats", None),  # a long passphrase, no symbols
    ],
)
def test_the_password_policy_asks_for_length_not_composition(password, code):  # SEC-8
    # Common and all-digit passwords: tests/volunteers/test_accounts.py (at sign-up).
    if code is None:
        validate_password(password)
        return
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert code in {error.code for error in refused.value.error_list}
