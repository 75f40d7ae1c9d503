"""Production settings refuse to start when unsafe and pass `check --deploy` (SEC-1)."""

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


def test_production_cookies_are_secure_and_host_bound():  # SEC-4
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " s.SECURE_HSTS_SECONDS)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION)
    assert result.stdout.splitlines()[-1].split() == [
        "__Host-sessionid", "__Host-csrftoken", "True", "True", "True", "Lax", "31536000",
    ]  # fmt: skip


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
