"""Organization managers: claim from the pledge's signed link, progress, invitations (issue 7)."""

import re
from urllib.parse import parse_qs

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse

from core.models import DomainEvent
from pledges import services as pledges_services
from pledges.models import OrganizationManager
from pledges.services import (
    INVITE_SALT,
    MANAGE_SALT,
    PledgeError,
    organization_from_invite_token,
    organization_invite_token,
    organization_manager_claim,
    pledge_token,
)
from tests.factories import (
    AttorneyFactory,
    OrganizationFactory,
    PledgeFactory,
    UserFactory,
    affiliate,
)
from tests.pledges.helpers import fresh_cache  # noqa: F401
from volunteers.models import AttorneyProfile
from volunteers.services import INVITE_SESSION_KEY, attorney_affiliate_by_invite

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
ORGANIZATION = reverse("pledges:organization")
PASSWORD = "correct horse battery staple"
ABOUT = {
    "first_name": "Ana",
    "last_name": "Lawyer",
    "phone": "212-555-0100",
    "home_zip": "10001",
    "travel_radius_miles": "30",
}


def _claim_url(pledge):
    return reverse("pledges:manage_claim", args=[pledge_token(pledge=pledge, salt=MANAGE_SALT)])


def test_claiming_through_the_manage_link_makes_one_manager(client):
    pledge = PledgeFactory()
    user = UserFactory()
    client.force_login(user)
    url = _claim_url(pledge)
    assert client.get(url).status_code == 200  # GET shows the button, writes nothing
    assert not OrganizationManager.objects.exists()
    response = client.post(url)
    assert response.status_code == 302 and response.url == ORGANIZATION
    assert client.post(url).status_code == 302  # twice: still one
    manager = OrganizationManager.objects.get()
    assert (manager.user, manager.organization) == (user, pledge.organization)
    assert DomainEvent.objects.filter(verb="organization.manager_claimed").count() == 1


def test_the_manage_page_offers_the_claim(client):
    pledge = PledgeFactory()
    token = pledge_token(pledge=pledge, salt=MANAGE_SALT)
    body = client.get(reverse("pledges:manage", args=[token])).content.decode()
    assert reverse("pledges:manage_claim", args=[token]) in body


def test_signed_out_the_claim_sends_to_sign_in_and_back(client):
    pledge = PledgeFactory()
    url = _claim_url(pledge)
    response = client.post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    login, query = response.url.split("?")
    assert login == reverse("account_login") and parse_qs(query) == {"next": [url]}
    assert not OrganizationManager.objects.exists()


@pytest.mark.parametrize("kind", ["garbage", "tampered", "wrong_purpose", "expired"])
def test_a_bad_or_expired_claim_link_is_a_clear_page_and_writes_nothing(client, monkeypatch, kind):
    pledge = PledgeFactory()
    good = pledge_token(pledge=pledge, salt=MANAGE_SALT)
    token = {
        "garbage": "not-a-real-key",
        "tampered": f"{int(good.split(':')[0]) + 1}:{good.split(':', 1)[1]}",
        "wrong_purpose": pledge_token(pledge=pledge, salt="volunteers.pledge.confirm"),
        "expired": good,
    }[kind]
    if kind == "expired":
        monkeypatch.setattr(pledges_services, "MANAGE_MAX_AGE", -1)
    client.force_login(UserFactory())
    events = DomainEvent.objects.count()
    response = client.post(reverse("pledges:manage_claim", args=[token]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "This link cannot be used" in body
    assert ("expired" in body) == (kind == "expired")
    assert not OrganizationManager.objects.exists()
    assert DomainEvent.objects.count() == events


def test_only_an_approved_pledge_can_be_claimed(client):
    pledge = PledgeFactory(status="pending")
    with pytest.raises(PledgeError) as error:
        organization_manager_claim(pledge=pledge, user=UserFactory())
    assert error.value.code == "not_approved"
    client.force_login(UserFactory())
    response = client.post(_claim_url(pledge))
    assert response.status_code == 302 and "/pledges/manage/" in response.url
    assert not OrganizationManager.objects.exists()


def test_a_non_manager_gets_a_404_and_anonymous_is_sent_to_sign_in(client):
    response = client.get(ORGANIZATION)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    PledgeFactory()
    client.force_login(UserFactory())
    assert client.get(ORGANIZATION).status_code == 404


def test_the_manager_page_shows_pledges_progress_and_an_invite(client, att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict
    from tests.volunteers.offers import offer_create

    organization = OrganizationFactory(name="Hudson & Pine LLP")
    pledge = PledgeFactory(organization=organization, kind="cases", amount=4)
    other = PledgeFactory(organization__name="Elsewhere LLP")
    user = UserFactory()
    organization_manager_claim(pledge=pledge, user=user)
    affiliate(att_a, organization)
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    client.force_login(user)
    response = client.get(ORGANIZATION)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hudson &amp; Pine LLP" in body and "Elsewhere LLP" not in body
    assert f'data-pledge="{pledge.pk}"' in body and f'data-pledge="{other.pk}"' not in body
    assert 'data-progress="1"' in body and "(25% of the pledge)" in body
    token = re.search(r'value="https?://[^/"]+/pledges/join/([^"/]+)/"', body).group(1)
    # The token is timestamped: compare what it carries, not its text (the second may turn).
    assert organization_from_invite_token(token=token) == organization


def _signup_and_verify(client, email):
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    confirm = re.search(r"https?://[^/\s]+(/accounts/\S+)", mail.outbox[-1].body).group(1)
    client.post(confirm)


def test_an_invited_attorney_is_affiliated_on_sign_up(client):
    organization = OrganizationFactory()
    token = organization_invite_token(organization=organization)
    response = client.get(reverse("pledges:join", args=[token]))
    assert response.status_code == 302 and response.url == reverse("account_signup")
    _signup_and_verify(client, "invited@example.org")
    user = get_user_model().objects.get(email="invited@example.org")
    assert client.session["_auth_user_id"] == str(user.pk)
    response = client.post(reverse("volunteers:profile_step", args=["about"]), ABOUT)
    assert response.status_code == 302
    attorney = AttorneyProfile.objects.get(user=user)
    assert attorney.organization == organization
    assert INVITE_SESSION_KEY not in client.session  # used once
    event = DomainEvent.objects.get(verb="attorney.affiliated_by_invite")
    assert event.data == {"organization_id": organization.pk}


def test_an_invitation_does_not_replace_a_chosen_organization(db):
    chosen, inviting = OrganizationFactory(), OrganizationFactory()
    attorney = AttorneyFactory(organization=chosen)
    assert not attorney_affiliate_by_invite(attorney=attorney, organization_id=inviting.pk)
    attorney.refresh_from_db()
    assert attorney.organization == chosen
    assert not DomainEvent.objects.filter(verb="attorney.affiliated_by_invite").exists()


@pytest.mark.parametrize("kind", ["garbage", "wrong_purpose", "expired"])
def test_a_bad_invite_link_is_a_clear_page_and_remembers_nothing(client, monkeypatch, kind):
    organization = OrganizationFactory()
    token = {
        "garbage": "not-a-real-key",
        "wrong_purpose": signing.TimestampSigner(salt=MANAGE_SALT).sign(str(organization.pk)),
        "expired": signing.TimestampSigner(salt=INVITE_SALT).sign(str(organization.pk)),
    }[kind]
    if kind == "expired":
        monkeypatch.setattr(pledges_services, "INVITE_MAX_AGE", -1)
    response = client.get(reverse("pledges:join", args=[token]))
    assert response.status_code == 404
    assert "This link cannot be used" in response.content.decode()
    assert INVITE_SESSION_KEY not in client.session


def test_a_coordinator_removes_a_manager_through_the_service(client, coord):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    from core.models import DomainEvent
    from pledges.models import OrganizationManager
    from tests.factories import OrganizationFactory, UserFactory

    manager = OrganizationManager.objects.create(
        user=UserFactory(), organization=OrganizationFactory()
    )
    client.force_login(coord)
    url = reverse("admin:pledges_organizationmanager_changelist")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [manager.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not OrganizationManager.objects.exists()
    event = DomainEvent.objects.get(verb="organization.manager_removed")
    assert (event.actor, event.data) == (coord, {"user_id": manager.user_id})
