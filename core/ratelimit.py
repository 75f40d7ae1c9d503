"""The client's address and the app's one rate limiter.

Behind a reverse proxy every request comes from the proxy's address, so throttles keyed on
REMOTE_ADDR lock every client out together (issue 11 #4). `client_ip` reads the address the
nearest TRUSTED_PROXY_COUNT proxies saw; allauth's limits (site login, sign-up, reset) reach it
through the account adapter's `get_client_ip`, and the admin login and the pledge form count
through `rate_limit_consume`, so every limit in ACCOUNT_RATE_LIMITS uses the same address.

Written here rather than taken from django-ipware: the rule is one line (count proxies from the
right of X-Forwarded-For, which only our own proxies can append to), and ipware's default picks
the leftmost, client-written address unless configured the same way.
"""

import ipaddress

from allauth.core.internal import ratelimit  # the public wrapper takes no rates
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address as the outermost trusted proxy saw it; REMOTE_ADDR with no proxy.

    Each of the TRUSTED_PROXY_COUNT proxies appends the address it received the request from,
    so the client is that many entries from the right; entries further left were written by the
    client and are never trusted. A request with fewer entries did not come through all the
    proxies (or was sent to the app directly): its own peer address is used.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and _valid(forwarded[-proxies]):
            return str(ipaddress.ip_address(forwarded[-proxies]))
    return remote


def rate_limit_consume(
    request: HttpRequest, *, action: str, rates: str, key: str | None = None
) -> bool:
    """Count one hit of `action` against `rates` ("5/m/ip,5/5m/key"); False once over a limit.

    allauth's limiter, in allauth's namespace so that "login_failed" here is the very counter
    its site login keeps: a sliding window per address ("ip", through client_ip) and per key
    ("key", e.g. an account's email); windows expire, never a permanent lockout (SEC-6).
    """
    config = {action: rates}
    usage = ratelimit.consume(request, app="allauth.account", action=action, config=config, key=key)
    return usage is not None


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def login_failure_key(login: str) -> str:
    """The per-account key of "login_failed": the same at the site login and the admin login."""
    return login.strip().lower()
