"""Production settings refuse to start when unsafe and pass `check --deploy` (SEC-1)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    unset = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND", "FIELD_ENCRYPTION_KEYS"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "probono.example.org",
    "FIELD_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
}


@pytest.mark.smoke
def test_production_settings_pass_check_deploy():  # SEC-1
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="probono.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_or_insecure_secret_key():
    result = _manage(
        "check", DEBUG="0", ALLOWED_HOSTS="x.org", SECRET_KEY="django-insecure-" + "x" * 50
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _manage("check", DEBUG="0", SECRET_KEY=PRODUCTION["SECRET_KEY"])
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must name" in result.stderr


def test_a_malformed_variable_stops_start_up_with_its_name():
    result = _manage("check", DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


# What production computes for its cookies and HSTS, read from a DEBUG=0 process.
_PRODUCTION_COOKIES = (
    "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
    "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_PATH", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
)  # fmt: skip


def _production_values(names) -> dict:
    code = (
        "import json; from django.conf import settings as s;"
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    )
    result = _manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _set_cookie_headers(response) -> dict[str, tuple[str, set[str]]]:
    """The Set-Cookie headers as the WSGI handler sends them, parsed: name -> (value, attrs)."""
    parsed = {}
    for morsel in response.cookies.values():
        header = morsel.output(header="").strip()
        pair, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = pair.partition("=")
        parsed[name] = (value, {a.lower() for a in attributes if not a.startswith("Max-Age")})
    return parsed


@pytest.mark.django_db
def test_a_real_sign_in_sets_secure_host_bound_cookies(client, settings):  # SEC-4, SEC-3
    from allauth.account.models import EmailAddress
    from django.urls import reverse

    from tests.factories import UserFactory

    for name, value in _production_values(_PRODUCTION_COOKIES).items():
        setattr(settings, name, value)
    user = UserFactory(username="cookie@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.get(reverse("account_login"), secure=True)
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302 and client.session.get("_auth_user_id")
    cookies = _set_cookie_headers(response)
    assert {"__Host-sessionid", "__Host-csrftoken"} <= set(cookies)
    assert cookies["__Host-sessionid"][1] >= {"httponly"}
    # Every cookie (the messages one too) is Secure, Lax and bound to this host: __Host- cookies
    # must be Secure, Path=/ and without Domain, or browsers drop them.
    for _value, attributes in cookies.values():
        assert attributes >= {"secure", "samesite=lax", "path=/"}
        assert not any(a.startswith("domain") for a in attributes)
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


@pytest.mark.django_db
def test_every_cookie_of_a_signed_in_visit_is_host_bound_and_secure(client, settings):  # SEC-4
    """Sign in, read the page the sign-in leads to, sign out (each adds or shows a flash message):
    every Set-Cookie header on the way is a __Host- cookie, Secure, Lax, Path=/, no Domain; the
    session cookie is HttpOnly; and no "messages" cookie is ever set (messages ride in the
    session)."""
    from allauth.account.models import EmailAddress
    from django.urls import reverse

    from tests.factories import UserFactory

    for name, value in _production_values(_PRODUCTION_COOKIES).items():
        setattr(settings, name, value)
    user = UserFactory(username="cookie@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    login = {"login": user.email, "password": "correct horse battery staple"}
    responses = [client.get(reverse("account_login"), secure=True)]
    responses.append(client.post(reverse("account_login"), login, secure=True))
    responses.append(client.get(responses[-1].url, secure=True))
    responses.append(client.post(reverse("account_logout"), secure=True))
    after = client.get(responses[-1].url, secure=True)
    responses.append(after)
    assert "You have signed out" in after.text  # the message survived, through the session
    seen = [cookie for r in responses for cookie in _set_cookie_headers(r).items()]
    names = {name for name, _ in seen}
    assert "__Host-sessionid" in names and "messages" not in names, names
    for name, (value, attributes) in seen:
        assert name.startswith("__Host-"), name
        assert attributes >= {"secure", "samesite=lax", "path=/"}, name
        assert not any(a.startswith("domain") for a in attributes), name
        if name == "__Host-sessionid" and value != '""':  # set, not deleted at sign-out
            assert "httponly" in attributes


def test_production_refuses_to_start_without_a_field_encryption_key():  # SEC-22
    without_key = {k: v for k, v in PRODUCTION.items() if k != "FIELD_ENCRYPTION_KEYS"}
    result = _manage("check", **without_key)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


_IS_SECURE_OVER_HTTP = (  # what SSL redirects, Secure cookies and CSRF's origin check read
    "from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
)


def test_x_forwarded_proto_is_believed_only_behind_a_configured_proxy():  # SEC-1, issue 11 #4
    """A client's own X-Forwarded-Proto over plain HTTP must not pass for HTTPS."""
    direct = _manage("shell", "-c", _IS_SECURE_OVER_HTTP, **PRODUCTION)
    assert direct.stdout.split()[-1] == "False", direct.stdout + direct.stderr
    proxied = _manage("shell", "-c", _IS_SECURE_OVER_HTTP, **PRODUCTION, TRUSTED_PROXY_COUNT="1")
    assert proxied.stdout.split()[-1] == "True", proxied.stdout + proxied.stderr
