"""Hostile input on every form and list of the site and the admin: never a 500, and nothing
written when the answer is not a success (SEC-17, SEC-18).

Walks the pages the permission matrix knows (tests/test_permission_matrix.py: its world and
actors, plus the profile steps and the partner intake), as each actor, and every admin add,
change and list page as the coordinator. Each POST form a page shows is sent back as the page
filled it with one field replaced by a hostile value of its kind (a fixed list per kind: empty,
10,000 characters, odd unicode, a lone surrogate, control characters, numbers past 2**63,
1e309, NaN, impossible dates, ids that are not ids), then with every field missing, every field
empty and every field repeated; each admin action on ids that are not ids. Each list's filter
links and GET forms, and the usual list parameters (page, p, o, q, ordering, after), are
followed with the same values. NUL is in the lists too: core.middleware refuses it with a 400.

The default walk takes the actors that hold the most forms and gives each field, list
parameter and admin action one value of its kind's short list, in turn (a field's neighbour
gets the next one), so the values are spread over the fields: 3.5 minutes on PostgreSQL, where
sending each field its whole list took ten. HOSTILE_WALK=full takes every value of the long
lists, everywhere, as every actor (about half an hour: the walk that found the 500s fixed with
this test). A failure lists each request that failed, its data and the project frames of its
traceback.
"""

import os
import sys
import traceback
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests import test_page_walks as walks
from tests import test_permission_matrix as matrix

pytestmark = pytest.mark.django_db

world = matrix.world  # the fixture: the matrix's actors, an open offer and an accepted case
FULL = os.environ.get("HOSTILE_WALK") == "full"

# Sent %-encoded as it is: the test client cannot encode a lone surrogate, a script can.
SURROGATE = "%ED%A0%80"
TEXT = ["", "x" * 10_000, "\u202e\u0301\ufeff\u200b", "\x00"]
TEXT_MORE = [" ", "💥" * 300, "\x1b[31m\r\n"]
NUMBER = ["-1", str(2**63), "1e309", "NaN"]
NUMBER_MORE = ["Infinity", "-Infinity", "abc", "9" * 400, "1.5"]
DATE = ["2026-02-30", "99999-01-01"]
DATE_MORE = ["0000-01-01", "0001-01-01", "9999-12-31", "abc"]
ID = ["abc", str(2**63)]
ID_MORE = ["999999999", "-1"]
if FULL:
    TEXT, NUMBER, DATE, ID = TEXT + TEXT_MORE, NUMBER + NUMBER_MORE, DATE + DATE_MORE, ID + ID_MORE


def _hostile(kind: str) -> list[str]:
    """The values tried in a field of this kind (the input's type, or "select")."""
    return {
        "number": NUMBER,
        "date": DATE,
        "datetime-local": DATE,
        "time": ["25:61", "abc"],
        "select": ID + TEXT[:2],
        "hidden": ID + TEXT,
    }.get(kind, TEXT + NUMBER[:2] + DATE[:1])


QUERY_VALUES = [*ID, *DATE[:2], "x" * 10_000, "1.2.-3", *(["-1", "-0", "\x00"] if FULL else [])]
LIST_PARAMETERS = ("page", "p", "o", "q", "ordering", "after", "_facets")


class Forms(walks._Forms):
    """The page walks' form parser, which also keeps each field's kind, the admin's actions,
    the GET forms and the links that only change the query (filters, pages, sorting)."""

    def __init__(self):
        super().__init__()
        self.get_forms: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and (a.get("href") or "").startswith("?"):
            self.links.append(a["href"])
        if tag == "form" and (a.get("method") or "get").lower() == "get":
            self._form = {"action": a.get("action"), "values": {}, "typed": [], "kinds": {}}
            self.get_forms.append(self._form)
            return
        super().handle_starttag(tag, attrs)
        if self._form is None:
            return
        if a.get("name"):
            kind = "select" if tag == "select" else a.get("type", "text")
            self._form.setdefault("kinds", {})[a["name"]] = kind
        if tag == "option" and self._select == "action":
            self._form.setdefault("actions", []).append(a.get("value", ""))


class Walk:
    """Sends requests, each rolled back; keeps those that failed or wrote without succeeding."""

    def __init__(self, client):
        self.client = client
        self.failed: list[tuple] = []
        self.sent = 0
        self.turn = 0

    def values(self, values: list) -> list:
        """All of ``values`` in the full walk; else the next one in turn."""
        if FULL:
            return values
        self.turn += 1
        return [values[self.turn % len(values)]]

    def send(self, method, url, data=None, raw=None):
        self.sent += 1
        before = walks._writes()
        try:
            with transaction.atomic():
                cache.clear()  # rate limits: every request is a first one
                response = self._request(method, url, data, raw)
                written = walks._writes() != before
                transaction.set_rollback(True)
        except Exception:  # a 500: kept, with where it happened
            self.failed.append((method, url, repr(data or raw)[:300], _where()))
            return
        # A success is a redirect or a download (an export is audited, SEC-24).
        succeeded = 300 <= response.status_code < 400 or "Content-Disposition" in response
        if written and not succeeded:  # refused, yet written
            self.failed.append((method, url, repr(data or raw)[:300], response.status_code))

    def _request(self, method, url, data, raw):
        if method == "GET":
            return self.client.get(url)
        if raw is not None:
            return self.client.post(url, raw, content_type="application/x-www-form-urlencoded")
        return self.client.post(url, data)

    def page(self, url):
        page = self.client.get(url)
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            return
        parser = Forms()
        parser.feed(page.content.decode())
        for form in parser.forms:
            action = form["action"] or url
            if action in (reverse("account_logout"), reverse("admin:logout")):
                continue  # would end the session the walk runs in
            self.post_form(action, form)
            if "_selected_action" in form["kinds"]:
                self.actions(url, form)
        self.queries(url, parser)

    def post_form(self, action, form):
        values = form["values"]
        fields = [name for name in form["kinds"] if name != "csrfmiddlewaretoken"]
        self.send("POST", action, {})
        self.send("POST", action, dict.fromkeys(fields, ""))
        self.send("POST", action, {name: [value, value + "1"] for name, value in values.items()})
        for name in fields:
            for value in self.values(_hostile(form["kinds"][name])):
                self.send("POST", action, values | {name: value})
            rest = urlencode({k: v for k, v in values.items() if k != name}, doseq=True)
            self.send("POST", action, raw=f"{rest}&{quote(name)}={SURROGATE}")

    def actions(self, url, form):
        """Each admin action on rows that are not ids, do not exist, or are repeated."""
        for action in form.get("actions", []):
            for ids in self.values([*ID, ["1", "1"], ["1", "abc"], ""]):
                self.send("POST", url, form["values"] | {"action": action, "_selected_action": ids})

    def queries(self, url, parser):
        keys = {key for link in parser.links for key, _ in parse_qsl(link[1:])}
        keys |= {key for form in parser.get_forms for key in form["kinds"]}
        base = urlsplit(url).path
        for key in sorted(keys | set(LIST_PARAMETERS)):
            for value in self.values(QUERY_VALUES):
                self.send("GET", f"{base}?{urlencode({key: value})}")
            self.send("GET", f"{base}?{quote(key)}={SURROGATE}")


def _where() -> str:
    """The exception and the last project frames it went through."""
    frames = traceback.extract_tb(sys.exc_info()[2])
    ours = [f"{f.filename}:{f.lineno} {f.name}" for f in frames if "packages" not in f.filename]
    error = traceback.format_exc(limit=-1).splitlines()[-1]
    return " <- ".join(reversed(ours[-3:])) + f" | {error}"


def _site_urls(world) -> list[str]:
    rows = matrix.MATRIX.items()
    urls = {reverse(name, args=matrix._args(row.args, world)) for name, row in rows}
    urls |= {reverse("volunteers:profile_step", args=[step]) for step in walks._STEPS}
    reference = world["offer"].case.reference
    urls |= {reverse("cases:create"), reverse("cases:list")}
    urls |= {reverse(f"cases:{name}", args=[reference]) for name in ("edit", "detail")}
    return sorted(urls)


def _admin_urls(model) -> list[str]:
    if model is None:
        return [reverse("admin:index"), reverse("admin:dashboard")]
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    urls = [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        urls.append(reverse(f"{info}_change", args=[first.pk]))
    return urls


ACTORS = ["anon", "owner", "partner"] + (["pending", "other", "interpreter"] if FULL else [])


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("actor", ACTORS)
def test_no_hostile_input_fails_or_writes_on_the_site(world, actor):  # SEC-17
    partner = walks._partner_of(world["offer"].case)
    user = (world["actors"] | {"partner": partner, "anon": None})[actor]
    walk = Walk(Client())
    if user is not None:
        walk.client.force_login(user)
    for url in _site_urls(world):
        walk.page(url)
    assert walk.sent > 100
    assert walk.failed == []


MODELS = [None, *admin.site._registry]


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label if m else "site" for m in MODELS])
def test_no_hostile_input_fails_or_writes_in_the_admin(world, coord, model):  # SEC-17
    walk = Walk(Client())
    walk.client.force_login(coord)
    for url in _admin_urls(model):
        walk.page(url)
    assert walk.failed == []
