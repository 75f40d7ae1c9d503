"""The client's address behind proxies, and the rate limits that count it (SEC-6; issue 11 #4)."""

import threading
import uuid
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import caches
from django.test import RequestFactory, override_settings
from django.urls import reverse

from core.ratelimit import client_ip, parse_rates, rate_limit_consume, window_hit
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
PROXY = "127.0.0.1"  # every request reaches gunicorn from the proxy on the same machine


def _request(forwarded_for=None):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_peer_is_the_client_whatever_it_forwards(settings):  # SEC-6
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("203.0.113.9")) == PROXY


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.9.9.9, 203.0.113.9", "203.0.113.9"),  # the client wrote the first entry
        (2, "10.9.9.9, 203.0.113.9, 192.0.2.1", "203.0.113.9"),
        (1, "2001:db8::1", "2001:db8::1"),
        (2, "203.0.113.9", PROXY),  # too few entries: not through every proxy
        (1, "not-an-address", PROXY),
        (1, None, PROXY),
    ],
)
def test_behind_proxies_the_client_is_counted_from_the_right(
    settings, proxies, forwarded, client
):  # SEC-6
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(forwarded)) == client


def _verified(email):
    user = UserFactory(username=email, email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.mark.django_db
def test_behind_a_proxy_one_client_s_failures_lock_out_only_that_client(
    client, settings
):  # SEC-6, issue 11 #4
    settings.TRUSTED_PROXY_COUNT = 1
    user = _verified("ana@example.org")
    guesser = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    for i in range(10):
        data = {"login": f"nobody-{i}@example.org", "password": "wrong password"}
        client.post(reverse("account_login"), data, **guesser)
    login = {"login": user.email, "password": PASSWORD}
    refused = client.post(reverse("account_login"), login, **guesser)
    assert refused.status_code == 200 and "Too many failed login attempts" in refused.text
    other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    response = client.post(reverse("account_login"), login, **other)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_site_login_failures_count_per_account_across_addresses(client, settings):  # SEC-6
    settings.TRUSTED_PROXY_COUNT = 1
    user = _verified("ana@example.org")
    for i in range(5):
        client.post(
            reverse("account_login"),
            {"login": user.email, "password": "wrong password"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert "Too many failed login attempts" in response.text
    assert "_auth_user_id" not in client.session


# The one window counter (issue 14 #6, issue 11 #4): allowed or not, and the real wait.

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def _backends():
    """The process-local cache always; Redis too when CACHE_URL names one (as in CI)."""
    from config.settings import CACHES

    backends = [pytest.param({**LOCMEM, "LOCATION": "ratelimit-tests"}, id="locmem")]
    if CACHES["default"]["BACKEND"].endswith("RedisCache"):
        backends.append(pytest.param(CACHES["default"], id="redis"))
    return backends


@pytest.fixture(params=_backends())
def backend(request):
    with override_settings(CACHES={"default": request.param}):
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


def test_a_window_allows_its_limit_then_states_the_real_wait(backend):  # SEC-6, SEC-19
    name = f"t:{uuid.uuid4().hex}"
    assert [window_hit(name, limit=3, window=60, now=1000.0)[:2] for _ in range(3)] == [
        (True, 0)
    ] * 3
    assert window_hit(name, limit=3, window=60, now=1025.0)[:2] == (False, 35)
    # A refused hit does not move the window: the wait keeps counting down.
    assert window_hit(name, limit=3, window=60, now=1050.0)[:2] == (False, 10)


def test_a_window_ends_and_the_next_one_counts_from_zero(backend):  # SEC-6: never a lockout
    name = f"t:{uuid.uuid4().hex}"
    for _ in range(5):
        window_hit(name, limit=2, window=60, now=1000.0)
    assert window_hit(name, limit=2, window=60, now=1060.0)[:2] == (True, 0)
    assert window_hit(name, limit=2, window=60, now=1061.0)[:2] == (True, 0)
    assert window_hit(name, limit=2, window=60, now=1062.0)[:2] == (False, 58)


def test_concurrent_hits_are_counted_exactly(backend):  # SEC-19: cache.add + incr are atomic
    name, allowed, barrier = f"t:{uuid.uuid4().hex}", [], threading.Barrier(12)

    def hit():
        barrier.wait()
        allowed.append(window_hit(name, limit=5, window=60, now=1000.0)[0])

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == [False] * 7 + [True] * 5


def test_rates_read_as_allauth_writes_them():
    assert [(r.amount, r.seconds, r.per) for r in parse_rates("10/m/ip, 5/5m/key,3/2h")] == [
        (10, 60, "ip"),
        (5, 300, "key"),
        (3, 7200, "ip"),
    ]


def test_the_wait_is_the_longest_of_the_refusing_windows(backend):  # SEC-6
    request = _request()
    for _ in range(2):
        rate_limit_consume(request, action="t", rates="1/m/ip,1/5m/key", key="k", now=1000.0)
    verdict = rate_limit_consume(request, action="t", rates="1/m/ip,1/5m/key", key="k", now=1010.0)
    assert (verdict.allowed, verdict.retry_after) == (False, 290)


def test_ipv6_clients_are_counted_per_64_block(backend, settings):  # SEC-6
    settings.TRUSTED_PROXY_COUNT = 1
    rate_limit_consume(_request("2001:db8:0:1::1"), action="t", rates="1/m/ip", now=1000.0)
    same_block = rate_limit_consume(
        _request("2001:db8:0:1::2"), action="t", rates="1/m/ip", now=1000.0
    )
    other_block = rate_limit_consume(
        _request("2001:db8:0:2::1"), action="t", rates="1/m/ip", now=1000.0
    )
    assert (same_block.allowed, other_block.allowed) == (False, True)


def _login_post(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    client.logout()
    return response


@pytest.mark.django_db
def test_the_site_login_counts_in_the_app_s_window(client):  # SEC-6, issue 14 #6
    """The site login is throttled by core.ratelimit's window (allauth's own limiter would not
    let the account in again when only core.ratelimit's clock has moved)."""
    user = _verified("ana@example.org")
    with mock.patch("core.ratelimit._clock", return_value=1_000_000.0) as clock:
        for _ in range(5):
            _login_post(client, user, "wrong password")
        refused = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert "Too many failed login attempts" in refused.text
        clock.return_value = 1_000_000.0 + 5 * 60
        accepted = client.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_right_passwords_are_not_counted_as_failures(client):  # SEC-6
    user = _verified("ana@example.org")
    for _ in range(6):
        assert _login_post(client, user, PASSWORD).status_code == 302
    for _ in range(4):
        _login_post(client, user, "wrong password")
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_core_ratelimit_is_the_only_window_counter():  # SEC-6, SEC-19, issue 14 #6
    """A second limiter drifts from the first (the pledge form's did: it could not share the
    address rule or say the wait the same way). Counting goes through core.ratelimit."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    apps = [p.parent for p in root.glob("*/apps.py")] + [root / "config"]
    counting = [
        str(path.relative_to(root))
        for app in apps
        for path in app.rglob("*.py")
        if "cache.incr(" in path.read_text() or "cache.decr(" in path.read_text()
    ]
    assert counting == ["core/ratelimit.py"]
