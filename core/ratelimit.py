"""The client's address and the app's one rate limiter: a window counter that also says how long
to wait.

Behind a reverse proxy every request comes from the proxy's address, so throttles keyed on
REMOTE_ADDR lock every client out together (issue 11 #4). `client_ip` reads the address the
nearest TRUSTED_PROXY_COUNT proxies saw.

`rate_limit_consume` counts one hit against rates written as allauth writes them ("10/m/ip,
5/5m/key"), in fixed windows kept in the shared cache, and answers whether the hit is allowed and,
when it is not, the seconds until the window ends. Every limit this app enforces itself goes
through it: failed sign-ins at the site login (AccountAdapter.pre_authenticate) and at the admin
login (core.staff_security) share the "login_failed" counters (SEC-6); the public pledge form
(SEC-19), which must tell the client the real wait; the "send the link again" button. allauth's
own limits on its other forms (sign-up, password reset, the second-factor step) stay allauth's,
counted on the same address through the account adapter's `get_client_ip`.

Written here rather than taken from django-ipware: the rule is one line (count proxies from the
right of X-Forwarded-For, which only our own proxies can append to), and ipware's default picks
the leftmost, client-written address unless configured the same way.
"""

import contextlib
import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A count outlives its window by this much, so a hit that read the window's start just before
# it expired still finds the count to add to (Redis INCR on a missing key would make one with
# no expiry).
_COUNT_SLACK_SECONDS = 60
IPV6_PREFIX = 64  # one client usually holds a whole /64: count it as one address
_clock = time.time  # tests move it


@dataclass(frozen=True)
class RateLimit:
    """One hit's verdict: allowed or not, the seconds until a refused client may try again (0
    when allowed), and the counters the hit added to (to take it back: `rate_limit_release`)."""

    allowed: bool
    retry_after: int
    counted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int
    per: str  # "ip", "key" or "user"


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
    request: HttpRequest,
    *,
    action: str,
    rates: str,
    key: str | None = None,
    now: float | None = None,
) -> RateLimit:
    """Count one hit of `action` in each of `rates` ("5/m/ip,5/5m/key"); refused once any is over.

    "ip" counts per client address (client_ip), "key" per `key` (e.g. an account's email),
    "user" per signed-in user. Windows expire: never a permanent lockout (SEC-6). A refused hit
    is counted too, which cannot lengthen a fixed window.
    """
    now = _clock() if now is None else now
    waits, counted = [], []
    for rate in parse_rates(rates):
        name = f"{action}:{rate.amount}/{rate.seconds}/{rate.per}:{_source(request, rate, key)}"
        allowed, wait, counter = window_hit(name, limit=rate.amount, window=rate.seconds, now=now)
        counted.append(counter)
        if not allowed:
            waits.append(wait)
    return RateLimit(allowed=not waits, retry_after=max(waits, default=0), counted=tuple(counted))


def window_hit(name: str, *, limit: int, window: int, now: float) -> tuple[bool, int, str]:
    """Count one hit in the fixed window `name` (window_count); returns (allowed, seconds until
    the window ends when refused, the counter's key)."""
    count, start, counter = window_count(name, window=window, now=now)
    if count <= limit:
        return True, 0, counter
    return False, min(window, max(1, math.ceil(start + window - now))), counter


def window_count(name: str, *, window: int, now: float) -> tuple[int, float, str]:
    """Count one hit in the fixed window `name`, which starts at its first hit and lasts `window`
    seconds; returns (hits so far in this window, its start, the counter's key).

    1. `cache.add` writes the window's start once (atomic: of two first hits, one writes it and
       both read it). It is never rewritten, so the wait stated is the real one.
    2. The count lives under a key named after that start, so a count from an earlier window is
       never read again, whatever a cache backend does to a key's expiry on `incr` (the file
       cache resets it).
    3. `cache.add` then `cache.incr`: atomic on Redis and in the process-local cache.
    """
    start_key = f"rl:{name}:start"
    start = None
    for _ in range(2):  # the start may expire between add and get: the second try opens a window
        cache.add(start_key, now, window)
        start = cache.get(start_key)
        if start is not None:
            break
    start = now if start is None else float(start)
    if start + window <= now:  # expired by our clock, not yet by the cache's (a skewed clock)
        start += (now - start) // window * window  # every process computes the same start
        cache.set(start_key, start, max(1, math.ceil(start + window - now)))
    counter = f"rl:{name}:{round(start * 1000)}"
    cache.add(counter, 0, window + _COUNT_SLACK_SECONDS)
    try:
        count = cache.incr(counter)
    except ValueError:  # gone between add and incr (or a cache that keeps nothing)
        cache.set(counter, 1, window + _COUNT_SLACK_SECONDS)
        count = 1
    return count, start, counter


def rate_limit_release(verdict: RateLimit) -> None:
    """Take back the hit `verdict` counted (a right password is not a failed sign-in).

    Only the hit is taken back, never the whole count: clearing it would let a guesser who also
    knows one password reset the limit between guesses.
    """
    for counter in verdict.counted:
        with contextlib.suppress(ValueError):  # the window ended: nothing left to take back
            cache.decr(counter)


def rate_limit_clear(request: HttpRequest, *, action: str, rates: str, key: str) -> None:
    """End the per-key windows of `action` for `key` (after a password reset by email)."""
    for rate in parse_rates(rates):
        if rate.per == "key":
            name = f"{action}:{rate.amount}/{rate.seconds}/{rate.per}:{_source(request, rate, key)}"
            cache.delete(f"rl:{name}:start")


def login_failed_consume(request: HttpRequest, *, login: str) -> RateLimit:
    """Count one sign-in attempt for `login`: the same counters at the site and admin logins."""
    return rate_limit_consume(
        request,
        action="login_failed",
        rates=settings.ACCOUNT_RATE_LIMITS["login_failed"],
        key=login_failure_key(login),
    )


def login_failure_key(login: str) -> str:
    """The per-account key of "login_failed": the same at the site login and the admin login."""
    return login.strip().lower()


def parse_rates(rates: str) -> list[Rate]:
    """ "10/m/ip,5/5m/key" -> [Rate(10, 60, "ip"), Rate(5, 300, "key")] (allauth's notation)."""
    parsed = []
    for part in filter(None, (p.strip() for p in rates.split(","))):
        amount, duration, *per = part.split("/")
        count = duration[:-1] or "1"
        parsed.append(Rate(int(amount), int(float(count) * _UNITS[duration[-1]]), *(per or ["ip"])))
    return parsed


def _source(request: HttpRequest, rate: Rate, key: str | None) -> str:
    if rate.per == "ip":
        return f"ip:{_address_bucket(client_ip(request))}"
    if rate.per == "user":
        return f"user:{request.user.pk}"
    if rate.per == "key" and key is not None:
        return f"key:{hashlib.sha256(key.encode()).hexdigest()}"
    raise ValueError(f"rate {rate} needs a key")


def _address_bucket(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return str(parsed)


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
