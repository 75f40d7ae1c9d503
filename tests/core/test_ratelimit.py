"""The client's address behind proxies, and the rate limits that count it (SEC-6; issue 11 #4)."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from core.ratelimit import client_ip
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
PROXY = "127.0.0.1"  # every request reaches gunicorn from the proxy on the same machine


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


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
