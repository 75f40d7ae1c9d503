"""A NUL character anywhere in a request is a 400, never a 500 that mails the admins (SEC-17);
a request for a foreign host is refused without an email (SEC-5)."""

from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cases.models import CaseRequest
from cases.services import partner_membership_set
from core.roles import identifier_viewers_group_sync
from tests.cases.test_admin import admin_post
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

AUTOCOMPLETE = "/admin/autocomplete/?app_label=cases&model_name=caserequest&field_name=language"


@pytest.fixture(autouse=True)
def admins(settings):
    settings.ADMINS = ["ops@example.org"]


@pytest.fixture
def partner_x(coord):
    user = UserFactory(username="partner-x@example.org")
    coord.groups.add(identifier_viewers_group_sync())  # who may grant partner access
    granter = type(coord).objects.get(pk=coord.pk)
    partner_membership_set(user=user, organization=OrganizationFactory(), actor=granter)
    return user


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(getattr(user, "user", user))  # an attorney fixture is the profile
    return client


@pytest.mark.parametrize(
    ("actor", "url"),
    [
        ("att_a", "/attorney/languages/search/?q=%00"),
        ("partner_x", "/intake/%00/"),
        ("partner_x", "/intake/%00/edit/"),
        ("coord", "/admin/cases/caserequest/?status=%00"),
        ("coord", "/admin/cases/caserequest/?language=%00"),
        ("coord", "/admin/cases/caserequest/?court__id__exact=%00"),
        ("coord", "/admin/cases/caserequest/?q=%00"),
        ("coord", AUTOCOMPLETE + "&term=%00"),
        ("coord", AUTOCOMPLETE + "&term=spa&%00=1"),
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400_and_mails_nobody(request, actor, url):  # SEC-17
    response = _client(request.getfixturevalue(actor)).get(url)
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
    assert mail.outbox == []


def test_a_nul_in_a_foreign_key_of_the_admin_add_form_is_a_400_and_writes_nothing(coord):
    # SEC-17: the probe's 500, which also mailed the POST data to the admins (SEC-5).
    client = _client(coord)
    response = client.post(reverse("admin:cases_caserequest_add"), admin_post(court="1\x00"))
    assert response.status_code == 400
    assert CaseRequest.objects.count() == 0
    assert mail.outbox == []


def test_a_nul_in_a_text_field_of_the_partner_form_is_a_400_and_writes_nothing(partner_x):
    # SEC-17
    from tests.cases.test_views import form_post

    response = _client(partner_x).post(
        reverse("cases:create"),
        urlencode(form_post(respondent_name="Maria\x00")),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert CaseRequest.objects.count() == 0


def test_a_nul_in_a_multipart_text_field_is_a_400(coord):  # SEC-17
    response = _client(coord).post(
        reverse("admin:cases_caserequest_add"), {**admin_post(), "summary": "a\x00b"}
    )
    assert response.status_code == 400


def test_a_foreign_host_is_refused_without_mailing_the_admins():  # SEC-5
    for _ in range(3):
        response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
        assert response.status_code == 400
    assert mail.outbox == []
