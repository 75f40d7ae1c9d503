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
followed with the same values (on a JSON or calendar answer too). NUL is in the lists too:
core.middleware refuses it with a 400.

What no page links to is sent on its own: every named URL's path value (a made-up token, a
reference, an id of another kind or past 2**63) as the owner and, in the admin, as a superuser;
the pages behind a good e-mailed token (a pledge's, an invitation, a status request); the admin's
autocomplete; the interpreter lists' language filters combined, repeated and with
lookups the page does not offer. The account pages behind a re-authentication are walked in
tests/test_hostile_input_accounts.py, hostile import files in tests/cases/test_import_hostile.py.

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
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from interpreters.models import TeamInterpreter
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

    def state(self):
        """What a request that does not succeed must leave as it was."""
        return walks._writes()

    def succeeded(self, url, response) -> bool:
        """A success is a redirect or a download (an export is audited, SEC-24)."""
        return 300 <= response.status_code < 400 or "Content-Disposition" in response

    def send(self, method, url, data=None, raw=None):
        self.sent += 1
        before = self.state()
        try:
            with transaction.atomic():
                cache.clear()  # rate limits: every request is a first one
                response = self._request(method, url, data, raw)
                written = self.state() != before
                transaction.set_rollback(True)
        except Exception:  # a 500: kept, with where it happened
            self.failed.append((method, url, repr(data or raw)[:300], _where()))
            return
        if written and not self.succeeded(url, response):  # refused, yet written
            self.failed.append((method, url, repr(data or raw)[:300], response.status_code))

    def _request(self, method, url, data, raw):
        if method == "GET":
            return self.client.get(url)
        if raw is not None:
            return self.client.post(url, raw, content_type="application/x-www-form-urlencoded")
        return self.client.post(url, data)

    def page(self, url):
        page = self.client.get(url)
        if page.status_code != 200:
            return
        parser = Forms()
        if "html" not in page.get("Content-Type", ""):  # JSON, a calendar: the list parameters
            self.queries(url, parser)
            return
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


# Values in a URL's path: what no page links to (a token, a reference, an id of another kind),
# sent to every named URL that takes one, GET and POST. A value a URL's converter refuses is a
# 404 from the resolver; the others reach the view. SURROGATE and NUL are sent as they are.
PATH_VALUES = ["abc", "x" * 3000, "a:b:c", "1:1tFoo:forged", "\u202e\u0301", "..", "%00"]
PATH_NUMBERS = ["0", str(2**63), "9" * 30]
if FULL:
    PATH_VALUES += [" ", "💥" * 50, "-1", str(2**63)]
_MARK, _NUMBER_MARK = "hostilemark", 918273645


def _path_urls() -> list[tuple[str, str, str, list[str]]]:
    """(name, URL with a mark, the mark, the values to put in its place) per URL with a path
    value; every value of the URL gets the same one."""
    urls = {}
    for name, keys in matrix.url_patterns():
        for mark, values in ((_MARK, [*PATH_VALUES, SURROGATE]), (_NUMBER_MARK, PATH_NUMBERS)):
            try:
                url = reverse(name, kwargs=dict.fromkeys(keys, mark))
            except NoReverseMatch:
                continue  # not a value of this kind (or a fixed list: the admin's app labels)
            if keys:
                urls[name] = (name, url, str(mark), values)
            break
    return sorted(urls.values())


def _encoded(value: str) -> str:
    return value if value in (SURROGATE, "%00") else quote(value, safe=":")


@pytest.fixture
def superuser(db):
    """Past every permission check of the admin, so each view's own handling of the value is
    what answers (staff open the admin with TOTP only, SEC-9)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import UserFactory

    user = UserFactory(username="root@example.org", is_staff=True, is_superuser=True)
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.mark.timeout(1800)
def test_no_hostile_path_value_fails_or_writes(world, superuser):  # SEC-17
    site, back_office = Walk(Client()), Walk(Client())
    site.client.force_login(world["actors"]["owner"])
    back_office.client.force_login(superuser)
    for name, url, mark, values in _path_urls():
        walk = back_office if name.startswith("admin:") else site
        for value in walk.values(values):
            walk.send("GET", url.replace(mark, _encoded(value)))
            walk.send("POST", url.replace(mark, _encoded(value)))
    assert len(_path_urls()) > 100  # every admin model's change page, every token link
    assert site.failed + back_office.failed == []


@pytest.mark.timeout(1800)
@pytest.mark.usefixtures("celery_eager")
def test_no_hostile_input_fails_or_writes_behind_a_good_token(  # SEC-17
    world, coord, django_capture_on_commit_callbacks
):
    """The pages an e-mailed link opens, with a good token (the matrix's is made up): a pledge's
    page and its claim, an organization's invitation, the owner's status request."""
    from matching.checkins import status_requests_create
    from pledges.services import MANAGE_SALT, organization_invite_token, pledge_token
    from tests.factories import PledgeFactory
    from tests.matching.checkins import tokens_in

    with django_capture_on_commit_callbacks(execute=True):
        status_requests_create(matches=[world["case"]], actor=coord)
    (status,) = tokens_in(mail.outbox[-1])
    pledge = PledgeFactory()
    manage = pledge_token(pledge=pledge, salt=MANAGE_SALT)
    invitation = organization_invite_token(organization=pledge.organization)
    walk = Walk(Client())
    walk.client.force_login(world["actors"]["owner"])
    pages = [("pledges:manage", manage), ("pledges:manage_claim", manage),
             ("pledges:join", invitation), ("volunteers:status_link", status)]  # fmt: skip
    for name, token in pages:
        walk.page(reverse(name, args=[token]))
    assert walk.sent > 100
    assert walk.failed == []


@pytest.mark.timeout(600)
def test_no_hostile_autocomplete_query_fails(coord):  # SEC-17
    """The admin's autocomplete (a JSON view no page links to): each field that has one, and
    names that are not a model's or a field's."""
    walk = Walk(Client())
    walk.client.force_login(coord)
    fields = [
        (model._meta.app_label, model._meta.model_name, field)
        for model, model_admin in admin.site._registry.items()
        for field in model_admin.autocomplete_fields
    ]
    url = reverse("admin:autocomplete")
    for app_label, model_name, field in [*fields, ("auth", "user", "password"), ("x", "y", "z")]:
        names = {"app_label": app_label, "model_name": model_name, "field_name": field}
        for key in ("term", "page", "app_label", "field_name"):
            for value in walk.values(QUERY_VALUES):
                walk.send("GET", f"{url}?{urlencode(names | {key: value})}")
    assert len(fields) > 5 and walk.failed == []


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("model", ["interpreterprofile", "teaminterpreter"])
def test_no_hostile_filter_of_the_interpreter_lists_fails(world, coord, model):  # SEC-17
    """The interpreter lists filter by the languages their interpreters have: each filter the page
    links to, with a hostile value next to a real language, repeated, and in lookups the page
    does not offer (refused by the admin, never a 500)."""
    # The filters show only when they offer two languages or more.
    TeamInterpreter.objects.filter(pk=TeamInterpreter.objects.order_by("pk")[0].pk).update(
        bridge_language_id="eng"
    )
    walk = Walk(Client())
    walk.client.force_login(coord)
    url = reverse(f"admin:interpreters_{model}_changelist")
    parser = Forms()
    parser.feed(walk.client.get(url).content.decode())
    links = [dict(parse_qsl(link[1:])) for link in parser.links]
    language = next(link for link in links if "language__code__exact" in str(link))
    [(key, code)] = language.items()
    values = QUERY_VALUES
    for other in sorted({key for link in links for key in link}):
        for value in walk.values(values):
            walk.send("GET", f"{url}?{urlencode(language | {other: value})}")
            walk.send("GET", f"{url}?{urlencode([(other, value), (key, code), (other, 'spa')])}")
    field = key.removesuffix("__code__exact")
    for lookup in walk.values(["__in", "__isnull", "__gt", "__regex", "__name__icontains"]):
        for value in walk.values(values):
            walk.send("GET", f"{url}?{urlencode({field + lookup: value})}")
    assert len([link for link in links if key in link]) >= 2
    assert walk.failed == []
