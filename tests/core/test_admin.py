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


# What no one does by hand, not even a superuser (who holds every model permission): rows that
# come from runs, sign-ups, links and services, changed only through them (STYLE 3).
NOT_BY_HAND = [
    ("matching", "match", "add"), ("matching", "match", "delete"),
    ("matching", "matchingrun", "add"), ("matching", "matchingrun", "change"),
    ("matching", "statusrequest", "add"), ("matching", "statusrequest", "change"),
    ("matching", "statusrequest", "delete"),
    ("mentoring", "mentorship", "add"), ("mentoring", "mentorship", "delete"),
    ("mentoring", "mentoringprofile", "add"), ("mentoring", "mentoringprofile", "delete"),
    ("mentoring", "caseshare", "add"), ("mentoring", "caseshare", "delete"),
    ("interpreters", "interpreterprofile", "add"), ("interpreters", "interpreterprofile", "delete"),
    ("interpreters", "teaminterpreter", "add"), ("interpreters", "teaminterpreter", "delete"),
    ("pledges", "organizationmanager", "add"),
]  # fmt: skip


@pytest.mark.parametrize(("app_label", "model_name", "action"), NOT_BY_HAND)
def test_not_even_a_superuser_adds_changes_or_deletes_these_by_hand(
    client, rf, app_label, model_name, action
):
    from django.apps import apps

    from tests.conftest import _with_totp
    from tests.factories import UserFactory

    root = _with_totp(UserFactory(username="root@example.org", is_staff=True, is_superuser=True))
    model_admin = admin.site._registry[apps.get_model(app_label, model_name)]
    request = rf.get("/admin/")
    request.user = root
    if action == "add":
        assert model_admin.has_add_permission(request) is False
        client.force_login(root)
        assert client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 403
    else:
        assert getattr(model_admin, f"has_{action}_permission")(request, None) is False


def test_a_manager_claim_is_decided_from_the_list_never_edited(client, coord):
    """The list's approve action needs the change permission; the row itself has no form."""
    from pledges.models import OrganizationManager
    from tests.factories import OrganizationFactory, UserFactory

    claim = OrganizationManager.objects.create(
        user=UserFactory(), organization=OrganizationFactory()
    )
    client.force_login(coord)
    change = reverse("admin:pledges_organizationmanager_change", args=[claim.pk])
    assert client.get(change).context["has_change_permission"] is False
    data = {"user": coord.pk, "organization": claim.organization_id}
    assert client.post(change, data).status_code == 403
    claim.refresh_from_db()
    assert claim.user_id != coord.pk


def test_admin_search_finds_a_case_by_reference(client, coord, some_rows):
    from cases.models import CaseRequest

    case = CaseRequest.objects.first()
    client.force_login(coord)
    response = client.get(reverse("admin:cases_caserequest_changelist"), {"q": case.reference})
    assert response.status_code == 200
    assert case.reference in response.content.decode()
