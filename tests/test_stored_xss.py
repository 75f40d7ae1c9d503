"""Stored text is escaped on every page (SEC-20).

A payload is stored in every field people type (attorney names and phone, bar numbers,
organization names and cities, the respondent's name, contact route and case summary, decline
and reject notes, pledge contacts and messages, run errors, reference data coordinators edit),
then every page of the permission matrix is read as each actor, with the pledge, manager and
partner pages and the whole admin as the people who see them. No page may carry the payload
unescaped; the pages that show these fields must carry it escaped (so the walk really met it).
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from cases.models import CaseRequest, CaseType, ImmigrationCourt
from core.roles import identifier_viewers_group_sync
from matching.checkins import StatusAnswer, status_request_answer
from matching.models import Match, MatchingRun, StatusRequest
from matching.services import match_decline
from tests import test_permission_matrix as matrix
from tests.factories import OrganizationFactory, PledgeFactory, partner_user
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile, BarAdmission, Organization

pytestmark = pytest.mark.django_db

PAYLOAD = '"><script>alert(1)</script>'
UNESCAPED = "<script>alert(1)"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

world = matrix.world  # the fixture: the matrix's actors, an open offer and an accepted case


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "x"}
    }
    cache.clear()


def _pledge_links(pledge, manager):
    """The pledge's manage link, and `manager` made a manager of its organization."""
    from pledges import services as pledges_services

    pledges_services.organization_manager_claim(pledge=pledge, user=manager)
    return reverse(
        "pledges:manage",
        args=[pledges_services.pledge_token(pledge=pledge, salt=pledges_services.MANAGE_SALT)],
    )


@pytest.fixture
def poisoned(world, att_a, att_b, coord):
    """The matrix's world, plus a declined offer, a pledge, a partner and a failed run, with the
    payload in every text field people type."""
    declined = offer_create(attorney=att_b, coordinator=coord)
    match_decline(match=declined, user=att_b.user, reason="other", note="x")
    pledge = PledgeFactory()
    partner = partner_user(organization=pledge.organization)
    coord.groups.add(identifier_viewers_group_sync())
    AttorneyProfile.objects.filter(pk=att_a.pk).update(organization=pledge.organization)
    BarAdmission.objects.create(attorney=att_a, jurisdiction="NY", bar_number="1")
    MatchingRun.objects.create(status=MatchingRun.Status.FAILED, error="x")
    CaseRequest.objects.update(organization=pledge.organization)
    manage_url = _pledge_links(pledge, manager=att_b.user)
    # A status update's free-text note (issue 16), stored through its service.
    help_asked = status_request_answer(
        match=world["case"],
        user=att_a.user,
        answer=StatusAnswer(answer=StatusRequest.Answer.NEED_HELP, note=PAYLOAD),
    )
    _poison()
    return {
        "partner": partner,
        "manager": att_b.user,
        "manage_url": manage_url,
        "case": world["case"],
        "offer": world["offer"],
        "status_request": help_asked,
    }


def _poison():
    get_user_model().objects.update(first_name=PAYLOAD, last_name=PAYLOAD)
    AttorneyProfile.objects.update(phone=PAYLOAD)
    BarAdmission.objects.update(bar_number=PAYLOAD)
    OrganizationFactory(confirmed=True)  # in the attorneys' organization picker
    for pk in Organization.objects.values_list("pk", flat=True):  # names are unique
        Organization.objects.filter(pk=pk).update(name=f"{PAYLOAD} {pk}", city=PAYLOAD)
    for case in CaseRequest.objects.all():  # encrypted fields: through save, not update()
        case.respondent_name = case.contact_route = case.summary = PAYLOAD
        case.detention_facility = PAYLOAD
        case.save()
    CaseType.objects.filter(code="asylum").update(name=PAYLOAD, description=PAYLOAD)
    ImmigrationCourt.objects.filter(code="new-york-city").update(name=PAYLOAD, city=PAYLOAD)
    Match.objects.update(decline_note=PAYLOAD, reject_reason=PAYLOAD)
    MatchingRun.objects.update(error=PAYLOAD)
    PledgeFactory._meta.model.objects.update(
        contact_name=PAYLOAD, contact_phone=PAYLOAD, message=PAYLOAD
    )


def _matrix_pages(world):
    return [
        (actor, reverse(name, args=matrix._args(row.args, world)))
        for name, row in matrix.MATRIX.items()
        for actor in row.get
    ]


def _admin_pages():
    pages = [reverse("admin:index"), reverse("admin:dashboard")]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{info}_changelist"))
        for pk in model._default_manager.order_by("-pk").values_list("pk", flat=True)[:3]:
            pages.append(reverse(f"{info}_change", args=[pk]))
    return [("coordinator", url) for url in pages]


def _read(client, users, pages):
    seen = {}
    for actor, url in pages:
        client.logout()
        if users.get(actor) is not None:
            client.force_login(users[actor])
        seen[(actor, url)] = client.get(url).content.decode(errors="replace")
    return seen


def test_every_page_escapes_stored_text(client, world, poisoned, coord):  # SEC-20
    users = world["actors"] | {
        "anon": None,
        "coordinator": coord,
        "partner": poisoned["partner"],
        "manager": poisoned["manager"],
    }
    reference = poisoned["case"].case.reference
    must_show = {
        ("owner", reverse("volunteers:offer", args=[poisoned["offer"].pk])),
        ("owner", reverse("volunteers:offer_parties", args=[poisoned["offer"].pk])),
        ("owner", reverse("volunteers:case", args=[poisoned["case"].pk])),
        ("owner", reverse("volunteers:dashboard")),
        ("owner", reverse("volunteers:profile_step", args=["bar"])),
        ("anon", reverse("pledges:wall")),
        ("anon", poisoned["manage_url"]),
        ("manager", reverse("pledges:organization")),
        ("partner", reverse("cases:detail", args=[reference])),
        ("partner", reverse("cases:list")),
        ("coordinator", reverse("admin:cases_caserequest_change", args=[poisoned["case"].case_id])),
        ("coordinator", reverse("admin:matching_matchingrun_changelist")),
        (
            "coordinator",
            reverse("admin:matching_statusrequest_change", args=[poisoned["status_request"].pk]),
        ),
    }
    pages = [*_matrix_pages(world), *must_show, *_admin_pages()]
    pages.append(("partner", reverse("cases:edit", args=[reference])))
    seen = _read(client, users, pages)
    assert [page for page, html in seen.items() if UNESCAPED in html] == []
    assert [page for page in must_show if ESCAPED not in seen[page]] == []
