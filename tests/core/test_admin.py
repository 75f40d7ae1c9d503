"""Every admin changelist: coordinators in, anonymous visitors and plain staff out (SEC-14)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import MatchFactory, PledgeFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = sorted(
    f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
    for model in admin.site._registry
)
PROJECT_CHANGELISTS = [name for name in CHANGELISTS if not name.startswith(("admin:auth_",))]


@pytest.fixture
def some_rows(db):
    MatchFactory()
    PledgeFactory()


@pytest.mark.smoke
@pytest.mark.parametrize("name", PROJECT_CHANGELISTS)
def test_a_coordinator_sees_every_changelist(client, coord, some_rows, name):
    client.force_login(coord)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", CHANGELISTS)
def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", PROJECT_CHANGELISTS)
def test_staff_without_permissions_are_refused(client, staff_plain, name):
    client.force_login(staff_plain)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PROJECT_CHANGELISTS)
def test_an_attorney_is_sent_to_the_admin_login(client, att_a, name):
    client.force_login(att_a.user)
    response = client.get(reverse(name))
    assert response.status_code == 302


def test_coordinators_cannot_edit_the_event_log_or_add_matches_by_hand(client, coord):
    client.force_login(coord)
    assert client.get(reverse("admin:core_domainevent_add")).status_code == 403
    assert client.get(reverse("admin:matching_match_add")).status_code == 403


def test_not_even_a_superuser_edits_or_deletes_an_event_in_the_admin(client):  # SEC-24
    from core.models import DomainEvent
    from core.services import event_record
    from tests.conftest import _with_totp
    from tests.factories import UserFactory

    root = _with_totp(UserFactory(username="root@example.org", is_staff=True, is_superuser=True))
    event = event_record(verb="case.viewed", actor=root)
    client.force_login(root)
    change = reverse("admin:core_domainevent_change", args=[event.pk])
    assert client.get(change).context["has_change_permission"] is False
    assert client.post(change, {"verb": "case.forged"}).status_code == 403
    delete = reverse("admin:core_domainevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DomainEvent.objects.get(pk=event.pk).verb == "case.viewed"


def test_admin_search_finds_a_case_by_reference(client, coord, some_rows):
    from cases.models import CaseRequest

    case = CaseRequest.objects.first()
    client.force_login(coord)
    response = client.get(reverse("admin:cases_caserequest_changelist"), {"q": case.reference})
    assert response.status_code == 200
    assert case.reference in response.content.decode()
