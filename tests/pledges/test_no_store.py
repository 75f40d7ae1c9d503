"""Pledge pages that show or take back a contact's name, email or phone are never stored by a
browser or proxy cache (issue 11 #11, SEC-3)."""

import pytest
from django.urls import reverse

from pledges.models import OrganizationManager
from pledges.services import CONFIRM_SALT, MANAGE_SALT, pledge_token
from tests.factories import PledgeFactory, UserFactory
from tests.pledges.helpers import form_data, fresh_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_the_anonymous_manage_page_is_no_store(client):  # SEC-3
    pledge = PledgeFactory(contact_name="Robin Counsel", contact_phone="555-0100")
    url = reverse("pledges:manage", args=[pledge_token(pledge=pledge, salt=MANAGE_SALT)])
    response = client.get(url)
    assert response.status_code == 200 and "555-0100" in response.content.decode()
    assert _no_store(response)
    refused = client.post(url, form_data(amount="0", contact_name="Kim Other"))  # the form again
    assert refused.status_code == 200 and _no_store(refused)
    assert "amount" in refused.context["form"].errors and "Kim Other" in refused.content.decode()
    pledge.refresh_from_db()
    assert pledge.contact_name == "Robin Counsel"  # nothing written


def test_every_pledge_page_with_contact_data_is_no_store(client):  # SEC-3
    pledge = PledgeFactory(status="unconfirmed")
    confirm = reverse("pledges:confirm", args=[pledge_token(pledge=pledge, salt=CONFIRM_SALT)])
    manage_token = pledge_token(pledge=pledge, salt=MANAGE_SALT)
    refused_form = client.post(reverse("pledges:new"), form_data(amount="0"))
    assert "robin@hudsonpine.example" in refused_form.content.decode()
    pages = {
        "confirm": client.get(confirm),
        "new (refused)": refused_form,
        "withdraw": client.post(reverse("pledges:withdraw", args=[manage_token])),
    }
    user = UserFactory()
    OrganizationManager.objects.create(
        user=user, organization=pledge.organization, approved_at=pledge.created_at
    )
    client.force_login(user)
    pages["claim"] = client.get(reverse("pledges:manage_claim", args=[manage_token]))
    pages["organization"] = client.get(reverse("pledges:organization"))
    assert {name: _no_store(r) for name, r in pages.items()} == dict.fromkeys(pages, True)


def test_the_public_wall_stays_cacheable(client):
    assert not _no_store(client.get(reverse("pledges:wall")))
