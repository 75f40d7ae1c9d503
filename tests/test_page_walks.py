"""Protections proven by walking every URL of the resolver, not one page each.

- SEC-16: a POST without a CSRF token is refused with 403 on every URL, and changes nothing.
- SEC-3: every page a signed-in user gets says `Cache-Control: no-store`.
- SEC-17: every form of every page, sent back as the page filled it with one field over-long,
  is refused and writes nothing (a length limit taken off a form is a failure here, on SQLite
  too, where the database would store the text).

The actors and their objects are the permission matrix's (tests/test_permission_matrix.py).
"""

from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from matching.models import Match
from tests import test_permission_matrix as matrix
from tests.factories import OrganizationFactory, partner_user
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db

MATRIX, _args = matrix.MATRIX, matrix._args
world = matrix.world  # the fixture: the matrix's actors, an open offer and an accepted case

# A value for URL parameters; any other gets "1" (the CSRF check runs before the view, so the
# object need not exist; "1" fits every converter the project uses).
_PARAMETERS = {
    "match_id": lambda w: w["offer"].pk,
    "step": lambda w: "about",
    "reference": lambda w: w["offer"].case.reference,
    "token": lambda w: "not-a-real-key",
    "key": lambda w: "not-a-real-key",
    "fmt": lambda w: "csv",
    "app_label": lambda w: "matching",
}


# URLs that take a POST without a CSRF token, and why (each still refuses a bad token).
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: the mail provider POSTs with no cookie and no token; the
    # signed token in the URL is the only key, and it can only switch the weekly digest off.
    "volunteers:digest_unsubscribe": "tests/volunteers/test_digest.py",
}


def _every_url(world):
    urls = {}
    for name, keys in matrix.url_patterns():
        kwargs = {key: _PARAMETERS.get(key, lambda w: "1")(world) for key in keys}
        urls[name] = reverse(name, kwargs=kwargs)
    return urls


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "w"}
    }
    cache.clear()


def _everything():
    """Rows of every model of the project, and the state of every match, case and attorney."""
    models = [m for m in apps.get_models() if m._meta.app_label not in ("sessions", "contenttypes")]
    # One query for every table: the over-long walk counts them around each of its posts.
    tables = ", ".join(
        f"(SELECT COUNT(*) FROM {connection.ops.quote_name(m._meta.db_table)})"  # noqa: S608
        for m in models
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {tables}")  # (table names from the models)
        counts = dict(zip((m._meta.label for m in models), cursor.fetchone(), strict=True))
    states = (
        list(Match.objects.order_by("pk").values_list("status", "conflict_attested_at")),
        list(apps.get_model("cases", "CaseRequest").objects.order_by("pk").values_list("status")),
        list(
            apps.get_model("volunteers", "AttorneyProfile")
            .objects.order_by("pk")
            .values_list("verification", "capacity", "active_cases", "organization_id")
        ),
    )
    return counts, states


def _actors(world, coord):
    return {"anon": None, "owner": world["actors"]["owner"], "coordinator": coord}


@pytest.mark.parametrize("actor", ["anon", "owner", "coordinator"])
def test_every_url_refuses_a_post_without_a_csrf_token(world, coord, actor):  # SEC-16
    client = Client(enforce_csrf_checks=True)
    user = _actors(world, coord)[actor]
    if user is not None:
        client.force_login(user)
    before = _everything()
    answered = {name: client.post(url).status_code for name, url in _every_url(world).items()}
    exempt = {name: answered.pop(name) for name in CSRF_EXEMPT}
    assert {name: status for name, status in answered.items() if status != 403} == {}
    assert set(exempt.values()) == {404}  # a made-up token: refused by the view, nothing written
    assert _everything() == before


def test_the_same_posts_with_a_token_go_through(world, att_b, coord):
    """The control: accept, decline and the attestation work with the token the page gives, so
    the 403s above are the CSRF check and nothing else."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["actors"]["owner"])
    offer = world["offer"]
    client.get(reverse("volunteers:offer", args=[offer.pk]))
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    for name, data in (("offer_attest", {}), ("offer_accept", {})):
        response = client.post(reverse(f"volunteers:{name}", args=[offer.pk]), data, **token)
        assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == Match.Status.ACCEPTED
    other = offer_create(attorney=att_b, coordinator=coord)
    client.force_login(att_b.user)
    response = client.post(
        reverse("volunteers:offer_decline", args=[other.pk]), {"reason": "distance"}, **token
    )
    other.refresh_from_db()
    assert response.status_code == 302 and other.status == Match.Status.DECLINED


# SEC-3


def _signed_in_pages(world, coord):
    """(actor, url) of every page of the matrix a signed-in actor can GET, every admin list,
    add and change page for the coordinator, and the partner intake pages."""
    pages = [
        (actor, reverse(name, args=_args(row.args, world)))
        for name, row in MATRIX.items()
        for actor in row.get
        if actor != "anon"
    ]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(("coordinator", reverse(f"{info}_changelist")))
        pages.append(("coordinator", reverse(f"{info}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(("coordinator", reverse(f"{info}_change", args=[first.pk])))
    pages.append(("coordinator", reverse("admin:index")))
    reference = world["offer"].case.reference
    pages += [("partner", reverse(name)) for name in ("cases:list", "cases:create")]
    pages += [("partner", reverse(f"cases:{n}", args=[reference])) for n in ("detail", "edit")]
    return pages


def _partner_of(case):
    organization = OrganizationFactory()
    type(case).objects.filter(pk=case.pk).update(organization=organization)
    return partner_user(organization=organization)


def test_every_signed_in_page_says_no_store(client, world, coord):  # SEC-3
    partner = _partner_of(world["offer"].case)
    users = world["actors"] | {"coordinator": coord, "partner": partner}
    not_private = []
    for actor, url in _signed_in_pages(world, coord):
        client.force_login(users[actor])
        cache_control = client.get(url).headers.get("Cache-Control", "")
        if not {"no-store", "private"} <= {part.strip() for part in cache_control.split(",")}:
            not_private.append((actor, url, cache_control))
    assert not_private == []


# SEC-17


class _Forms(HTMLParser):
    """The POST forms of a page: action, the values the page put in them (as a browser would
    send them untouched), and the fields a person types into (not hidden, not ticked)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"), "values": {}, "typed": []}
            if (a.get("method") or "").lower() == "post":
                self.forms.append(self._form)
        elif self._form is not None and a.get("name"):
            self._field(tag, a)
        elif tag == "option" and self._form is not None and self._select:
            self._option(a)

    def _option(self, a):
        """The selected option, else the first one, as a browser sends it."""
        if "selected" in a or not self._form["values"].get(self._select):
            self._form["values"][self._select] = a.get("value", "")

    def _field(self, tag, a):
        name, kind, values = a["name"], a.get("type", "text"), self._form["values"]
        if tag == "select":
            self._select = name
            values.setdefault(name, "")
        elif kind in ("checkbox", "radio"):
            if "checked" in a or (kind == "radio" and name not in values):
                values[name] = a.get("value", "on")
            return
        elif tag in ("input", "textarea") and kind not in ("submit", "button", "file"):
            values[name] = a.get("value", "")
        if tag in ("input", "textarea", "select") and kind not in ("hidden", "submit", "button"):
            self._form["typed"].append(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _writes():
    """_everything, with the audit of reads and refusals left out (SEC-24): a refused form
    shown again with the record it edits is a view, a wrong password a failed sign-in."""
    counts, states = _everything()
    refusals = ("access.refused", "account.login_failed")
    changes = DomainEvent.objects.exclude(verb__endswith="viewed").exclude(verb__in=refusals)
    return counts | {"core.DomainEvent": changes.count()}, states


def _post_forms_of(client, url, value):
    """(action, field, status) for each typed field of each POST form on the page, sent with
    `value` in that field; each post is rolled back; those that wrote or failed are kept."""
    page = client.get(url)
    parser = _Forms()
    parser.feed(page.content.decode() if page.status_code == 200 else "")
    refused = []
    before = _writes()  # the same before every post: each is rolled back
    for form in parser.forms:
        action = form["action"] or url
        if action == reverse("account_logout"):  # would end the session the walk runs in
            continue
        for name in form["typed"]:
            with transaction.atomic():
                cache.clear()  # rate limits count valid posts only, but signup counts all
                status = client.post(action, form["values"] | {name: value}).status_code
                if status >= 500 or _writes() != before:
                    refused.append((action, name, status))
                transaction.set_rollback(True)
    return refused


_STEPS = ("about", "organization", "bar", "languages", "practice", "preferences", "capacity")


@pytest.mark.parametrize("actor", ["anon", "owner", "pending", "interpreter", "partner"])
def test_an_over_long_value_in_any_field_of_any_form_writes_nothing(world, actor):  # SEC-17
    partner = _partner_of(world["offer"].case)
    user = (world["actors"] | {"partner": partner, "anon": None})[actor]
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    urls = {reverse(name, args=_args(row.args, world)) for name, row in MATRIX.items()}
    urls |= {reverse("volunteers:profile_step", args=[step]) for step in _STEPS}
    reference = world["offer"].case.reference
    urls |= {reverse("cases:create"), reverse("cases:edit", args=[reference])}
    written = [row for url in sorted(urls) for row in _post_forms_of(client, url, "9" * 5000)]
    assert written == []
