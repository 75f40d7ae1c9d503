"""Protections proven by walking every URL of the resolver, not one page each.

- SEC-16: a POST without a CSRF token is refused with 403 on every URL, and changes nothing.
- SEC-3: every page a signed-in user gets says `Cache-Control: no-store`.

The actors and their objects are the permission matrix's (tests/test_permission_matrix.py).
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

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
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in ("sessions", "contenttypes")
    }
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
