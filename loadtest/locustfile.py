"""The REL-7 load mix, run by `manage.py load_run` (which prepares the accounts, starts gunicorn
and a Celery worker, and reads the figures back). Not meant to be run by hand against anything
but the loopback server that command starts.

Three kinds of visitor share the run: attorneys (sign in, dashboard, an offer, attest + accept,
sometimes sign out and in again), the public (pledge form and its post, the wall, totals.json)
and coordinators (signed in with password + TOTP code, the match review queue).

The server runs with production settings (DEBUG off, secure cookies, CSRF's HTTPS referer
check) behind an imagined TLS proxy: every request says `X-Forwarded-Proto: https`, as the proxy
would, and the cookie jar sends secure cookies over the loopback connection.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import time
from http.cookiejar import DefaultCookiePolicy
from itertools import count

from locust import HttpUser, between, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"]).read())  # noqa: SIM115 - read once
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OFFER = re.compile(r'href="/attorney/offers/(\d+)/"')
_accounts = {"attorney": count(), "coordinator": count()}
_addresses = count(1)


def _secure_cookies_go_back(policy, cookie, request):
    """The proxy terminates TLS; on the loopback hop the secure cookies still go back."""
    return True


# Patched on the class: requests copies the jar into a fresh one (default policy) per request,
# so a policy set on the session would not reach the requests it sends. Only this process.
DefaultCookiePolicy.return_ok_secure = _secure_cookies_go_back


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 as allauth checks it: SHA-1, 30-second steps, 6 digits."""
    counter = struct.pack(">Q", int(time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


class _Visitor(HttpUser):
    abstract = True

    def on_start(self):
        self.client.headers["X-Forwarded-Proto"] = "https"
        self._new_address()

    def _new_address(self):
        """The address our proxy would append: one per visitor, from TEST-NET-3 (RFC 5737; only
        ever a header value here, nothing is sent to it), so per-address limits see each one."""
        number = next(_addresses)
        self.client.headers["X-Forwarded-For"] = f"203.0.113.{number % 254 + 1}"

    def _get(self, path, name=None):
        return self.client.get(path, name=name or path)

    def _post(self, path, page, data, name=None, lands_on=None):
        """Post a form with the CSRF token of `page` (the response the form was read from). With
        `lands_on`, a post that does not end on that path (a refused sign-in, a form sent back
        with errors) counts as a failure even though its status is 200."""
        token = CSRF.search(page.text)
        fields = {"csrfmiddlewaretoken": token.group(1) if token else "", **data}
        referer = "https://" + self.host.split("://", 1)[1] + page.request.path_url
        with self.client.post(
            path, fields, headers={"Referer": referer}, name=name or path, catch_response=True
        ) as response:
            landed = response.request.path_url.split("?")[0] if response.request else ""
            if response.ok and lands_on and landed != lands_on:
                response.failure(f"landed on {landed}, expected {lands_on}")
        return response


class Attorney(_Visitor):
    weight = 6
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        accounts = FIXTURE["attorneys"]
        self.email = accounts[next(_accounts["attorney"]) % len(accounts)]
        self.offers: list[str] = []
        self._sign_in()

    def _sign_in(self):
        page = self._get("/accounts/login/")
        data = {"login": self.email, "password": FIXTURE["password"]}
        self._post("/accounts/login/", page, data, lands_on="/attorney/")

    def _dashboard(self):
        page = self._get("/attorney/")
        self.offers = OFFER.findall(page.text)
        return page

    @task(4)
    def dashboard(self):
        self._dashboard()

    @task(3)
    def offer(self):
        if self.offers:
            self._get(f"/attorney/offers/{self.offers[0]}/", name="/attorney/offers/[id]/")

    @task(1)
    def attest_and_accept(self):
        if not self.offers:
            return
        offer = self.offers.pop(0)
        path = f"/attorney/offers/{offer}/"
        page = self._get(path, name="/attorney/offers/[id]/")
        # Attesting lands back on the offer, accepting on the case; an offer that went away
        # meanwhile (expired, capacity reached) lands elsewhere with a message: not an error.
        page = self._post(f"{path}attest/", page, {}, name="/attorney/offers/[id]/attest/")
        self._post(f"{path}accept/", page, {}, name="/attorney/offers/[id]/accept/")

    @task(1)
    def sign_out_and_in(self):
        page = self._dashboard()
        self._post("/accounts/logout/", page, {})
        self._sign_in()


class Public(_Visitor):
    weight = 3
    wait_time = between(1, 3)

    @task(3)
    def pledge_form(self):
        self._get("/pledges/new/")

    @task(1)
    def pledge(self):
        page = self._get("/pledges/new/")
        self._post("/pledges/new/", page, FIXTURE["pledge"], lands_on="/pledges/thanks/")
        # An organization pledges once; the next pledge is another organization's, from its own
        # address. (One address sending five within a minute is refused by SEC-19's limit, as
        # it should be: that is a bot, not this mix.)
        self._new_address()

    @task(3)
    def wall(self):
        self._get("/pledges/")

    @task(4)
    def totals(self):
        self._get("/pledges/totals.json")


class Coordinator(_Visitor):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        super().on_start()
        accounts = FIXTURE["coordinators"]
        account = accounts[next(_accounts["coordinator"]) % len(accounts)]
        page = self._get("/admin/login/?next=/admin/")
        data = {
            "username": account["username"],
            "password": FIXTURE["password"],
            "otp": totp_code(account["totp_secret"]),
            "next": "/admin/",
        }
        self._post(
            "/admin/login/?next=/admin/", page, data, name="/admin/login/", lands_on="/admin/"
        )

    @task
    def review_queue(self):
        self._get("/admin/matching/match/")
