"""A form sent after signing out (core.middleware.signed_out_post_back_to_its_page): the sign-in
page sends the person back to the form's page, not to its POST-only action, whose GET is an
empty 405 (SEC-16) that the browser shows as its own error page."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from core.middleware import SIGNED_OUT_POST
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(att_a, coord):
    return offer_create(attorney=att_a, coordinator=coord)


def _login_next(path: str) -> str:
    return f"{reverse('account_login')}?next={quote(path)}"


def test_it_signs_in_back_to_the_page_the_form_was_on_and_says_nothing_was_saved(client, offer):
    page = reverse("volunteers:offer", args=[offer.pk])
    accept = reverse("volunteers:offer_accept", args=[offer.pk])
    response = client.post(accept, HTTP_REFERER=f"http://testserver{page}")
    assert response.status_code == 302 and response.url == _login_next(page)
    assert SIGNED_OUT_POST in client.get(response.url).content.decode()
    offer.refresh_from_db()
    assert offer.status == "offered"
    assert client.get(accept).status_code == 405  # the action itself: still POST only


@pytest.mark.parametrize("referer", ["", "https://elsewhere.example/attorney/"])
def test_without_a_same_origin_page_the_sign_in_keeps_djangos_next(client, offer, referer):
    accept = reverse("volunteers:offer_accept", args=[offer.pk])
    response = client.post(accept, HTTP_REFERER=referer)
    assert response.status_code == 302 and response.url == _login_next(accept)
