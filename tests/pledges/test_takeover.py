"""Nobody takes over an organization by typing its name (issue 11 #8, SEC-12).

A pledge or an attorney that names an existing organization, in any case or spacing, asks to
manage or join it; the organization's approved manager or a coordinator decides.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from core.models import DomainEvent
from pledges.models import OrganizationManager, Pledge
from pledges.services import (
    MANAGE_SALT,
    PledgeError,
    organization_manager_approve,
    organization_manager_claim,
    pledge_approve,
    pledge_confirm,
    pledge_token,
)
from tests.factories import OrganizationFactory, PledgeFactory, UserFactory
from tests.pledges.helpers import form_data, fresh_cache  # noqa: F401
from volunteers.models import AttorneyProfile, Organization

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
ORGANIZATION = reverse("pledges:organization")
HAYES = "Hayes & Lane LLP"


@pytest.fixture
def hayes():
    """The real firm: confirmed, with a manager who came with its first pledge."""
    organization = OrganizationFactory(name=HAYES, confirmed=True)
    founder = UserFactory(username="founder@hayes.example", email="founder@hayes.example")
    OrganizationManager.objects.create(
        user=founder, organization=organization, approved_at=organization.created_at
    )
    return organization, founder


def _stranger_pledge(client, coord):
    """An anonymous pledge for the firm's name, mangled; a coordinator approves the pledge."""
    response = client.post(
        reverse("pledges:new"),
        form_data(organization_name="  HAYES &  lane llp ", contact_email="eve@evil.example"),
    )
    assert response.status_code == 302
    pledge = pledge_confirm(pledge=Pledge.objects.get(contact_email="eve@evil.example"))
    return pledge_approve(pledge=pledge, actor=coord)


def _claim(client, pledge, user):
    client.force_login(user)
    url = reverse("pledges:manage_claim", args=[pledge_token(pledge=pledge, salt=MANAGE_SALT)])
    return client.post(url)


def test_a_pledge_by_name_does_not_make_its_contact_the_firms_manager(client, coord, hayes):
    organization, _ = hayes
    pledge = _stranger_pledge(client, coord)
    assert pledge.organization == organization and not pledge.organization_created
    eve = UserFactory(username="eve@evil.example", email="eve@evil.example")
    response = _claim(client, pledge, eve)
    assert response.status_code == 302 and "/pledges/manage/" in response.url
    claim = OrganizationManager.objects.get(user=eve)
    assert claim.approved_at is None  # a request, nothing more
    assert client.get(ORGANIZATION).status_code == 404  # no pledges, no invite link
    assert DomainEvent.objects.filter(verb="organization.manager_requested").count() == 1
    assert not DomainEvent.objects.filter(verb="organization.manager_claimed").exists()


def test_a_confirmed_firm_without_a_manager_is_not_claimed_by_name_either(client, coord):
    OrganizationFactory(name=HAYES, confirmed=True)
    pledge = _stranger_pledge(client, coord)
    eve = UserFactory(username="eve@evil.example")
    _claim(client, pledge, eve)
    assert OrganizationManager.objects.get(user=eve).approved_at is None
    assert client.get(ORGANIZATION).status_code == 404


def test_the_firms_manager_approves_a_claim(client, coord, hayes):
    _, founder = hayes
    pledge = _stranger_pledge(client, coord)
    colleague = UserFactory(username="colleague@hayes.example")
    _claim(client, pledge, colleague)
    claim = OrganizationManager.objects.get(user=colleague)
    client.force_login(founder)
    page = client.get(ORGANIZATION).content.decode()
    assert f'data-manager-request="{claim.pk}"' in page
    url = reverse("pledges:manager_decide", args=[claim.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 302
    claim.refresh_from_db()
    assert claim.approved_at is not None
    client.force_login(colleague)
    assert client.get(ORGANIZATION).status_code == 200


def test_another_organizations_manager_cannot_decide(client, coord, hayes):  # SEC-12
    pledge = _stranger_pledge(client, coord)
    eve = UserFactory(username="eve@evil.example")
    _claim(client, pledge, eve)
    claim = OrganizationManager.objects.get(user=eve)
    elsewhere = PledgeFactory(organization__name="Elsewhere LLP")
    other_manager = UserFactory()
    OrganizationManager.objects.create(
        user=other_manager, organization=elsewhere.organization, approved_at=elsewhere.created_at
    )
    for user in (other_manager, eve):  # eve cannot approve herself either
        client.force_login(user)
        url = reverse("pledges:manager_decide", args=[claim.pk])
        assert client.post(url, {"decision": "approve"}).status_code == 404
    claim.refresh_from_db()
    assert claim.approved_at is None


def test_a_coordinator_approves_a_claim_in_the_admin(client, coord, hayes):
    pledge = _stranger_pledge(client, coord)
    eve = UserFactory(username="eve@evil.example")
    _claim(client, pledge, eve)
    claim = OrganizationManager.objects.get(user=eve)
    client.force_login(coord)
    response = client.post(
        reverse("admin:pledges_organizationmanager_changelist"),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [claim.pk]},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.approved_at is not None
    assert DomainEvent.objects.filter(verb="organization.manager_approved", actor=coord).exists()


def test_the_pledge_that_created_the_organization_makes_its_manager(client, coord):
    response = client.post(reverse("pledges:new"), form_data(organization_name="New Firm LLP"))
    assert response.status_code == 302
    pledge = pledge_approve(pledge=pledge_confirm(pledge=Pledge.objects.get()), actor=coord)
    assert pledge.organization_created
    founder = UserFactory()
    assert _claim(client, pledge, founder).url == ORGANIZATION
    assert OrganizationManager.objects.get(user=founder).approved_at is not None


# The attorney's side: a typed or picked name is a request to join.


def _organization_step(client, attorney, data):
    client.force_login(attorney.user)
    return client.post(reverse("volunteers:profile_step", args=["organization"]), data)


@pytest.mark.parametrize(
    "data",
    [{"new_organization": "  HAYES &  lane llp "}, {"organization": "PICK"}],
    ids=["typed", "picked"],
)
def test_an_attorney_naming_an_existing_firm_only_asks_to_join(client, att_a, hayes, data):
    organization, _ = hayes
    data = {k: organization.pk if v == "PICK" else v for k, v in data.items()}
    response = _organization_step(client, att_a, data)
    assert response.status_code == 302
    att_a.refresh_from_db()
    assert att_a.organization is None
    assert att_a.organization_requested == organization
    assert Organization.objects.filter(name__iexact=HAYES).count() == 1
    assert "asked to join" in client.get(response.url, follow=True).content.decode()


def test_the_firms_manager_approves_an_attorney(client, att_a, hayes):
    organization, founder = hayes
    _organization_step(client, att_a, {"new_organization": "hayes & lane llp"})
    client.force_login(founder)
    assert f'data-attorney-request="{att_a.pk}"' in client.get(ORGANIZATION).content.decode()
    url = reverse("pledges:attorney_decide", args=[att_a.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 302
    att_a.refresh_from_db()
    assert (att_a.organization, att_a.organization_requested) == (organization, None)
    assert DomainEvent.objects.filter(verb="attorney.affiliation_approved", actor=founder).exists()


def test_a_stranger_cannot_approve_an_attorney(client, att_a, att_b, hayes):  # SEC-12
    _organization_step(client, att_a, {"new_organization": HAYES})
    for user in (att_a.user, att_b.user, UserFactory()):
        client.force_login(user)
        url = reverse("pledges:attorney_decide", args=[att_a.pk])
        assert client.post(url, {"decision": "approve"}).status_code == 404
    att_a.refresh_from_db()
    assert att_a.organization is None


def test_a_coordinator_approves_an_attorney_in_the_admin(client, coord, att_a, hayes):
    organization, _ = hayes
    _organization_step(client, att_a, {"new_organization": HAYES})
    client.force_login(coord)
    response = client.post(
        reverse("admin:volunteers_attorneyprofile_changelist"),
        {"action": "approve_affiliation_selected", ACTION_CHECKBOX_NAME: [att_a.pk]},
    )
    assert response.status_code == 302
    assert AttorneyProfile.objects.get(pk=att_a.pk).organization == organization


@pytest.mark.parametrize("decision", [None, "", "Approve", "maybe"])
def test_a_decision_that_is_neither_approve_nor_decline_changes_nothing(
    client, coord, att_a, hayes, decision
):  # SEC-17: a missing or mangled answer is no decline
    _, founder = hayes
    eve = UserFactory(username="eve@evil.example")
    _claim(client, _stranger_pledge(client, coord), eve)
    claim = OrganizationManager.objects.get(user=eve)
    _organization_step(client, att_a, {"new_organization": HAYES})
    client.force_login(founder)
    data = {} if decision is None else {"decision": decision}
    before = DomainEvent.objects.count()
    for name, pk in (("manager_decide", claim.pk), ("attorney_decide", att_a.pk)):
        response = client.post(reverse(f"pledges:{name}", args=[pk]), data, follow=True)
        assert "Choose to approve or to decline" in response.content.decode()
    claim.refresh_from_db()
    att_a.refresh_from_db()
    assert claim.approved_at is None and OrganizationManager.objects.filter(user=eve).exists()
    assert att_a.organization_requested is not None and att_a.organization is None
    assert DomainEvent.objects.count() == before


# The services on their own (the pages find a claim only through an approved manager)


def test_a_pending_claim_cannot_approve_itself(client, coord, hayes):  # SEC-12
    eve = UserFactory(username="eve@evil.example")
    _claim(client, _stranger_pledge(client, coord), eve)
    claim = OrganizationManager.objects.get(user=eve)
    with pytest.raises(PledgeError) as refused:
        organization_manager_approve(manager=claim, actor=eve)
    assert refused.value.code == "not_allowed"
    claim.refresh_from_db()
    assert claim.approved_at is None


def test_a_second_claim_from_the_founding_pledge_waits_for_the_founder(client, coord):
    """Only the first claim from the pledge that created the organization is approved at once;
    another (a forwarded manage link) waits for the manager it made."""
    client.post(reverse("pledges:new"), form_data(organization_name="New Firm LLP"))
    pledge = pledge_approve(pledge=pledge_confirm(pledge=Pledge.objects.get()), actor=coord)
    _claim(client, pledge, UserFactory())
    forwarded = UserFactory()
    _claim(client, pledge, forwarded)
    assert OrganizationManager.objects.get(user=forwarded).approved_at is None


def test_a_pledge_not_yet_approved_makes_no_manager(coord):
    pledge = PledgeFactory(organization__name="New Firm LLP", status=Pledge.Status.PENDING)
    with pytest.raises(PledgeError) as refused:
        organization_manager_claim(pledge=pledge, user=UserFactory())
    assert refused.value.code == "not_approved"
    assert not OrganizationManager.objects.exists()
