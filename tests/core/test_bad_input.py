"""A NUL character anywhere in a request is a 400, never a 500 that mails the admins (SEC-17);
a request for a foreign host is refused without an email (SEC-5)."""

from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cases.models import CaseRequest
from cases.services import partner_membership_set
from core.models import DomainEvent
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


@pytest.mark.parametrize("selected", ["abc", "", " ", "1e309", ["1", "abc"]])
def test_an_admin_action_on_rows_that_are_not_ids_is_refused_with_a_message(
    coord, att_new, selected
):  # SEC-17: was a 500 (ValueError in filter(pk__in=...)) on every changelist with actions
    changelist = reverse("admin:volunteers_attorneyprofile_changelist")
    data = {"action": "verify_selected", "select_across": "0", "index": "0"}
    response = _client(coord).post(changelist, {**data, "_selected_action": selected}, follow=True)
    assert response.status_code == 200
    assert "Those rows are not in this list" in response.content.decode()
    att_new.refresh_from_db()
    assert att_new.verification == "pending"
    assert not DomainEvent.objects.filter(verb__startswith="attorney.").exists()


@pytest.mark.parametrize(
    "query", [{"occurred_at__year": "10000"}, {"occurred_at__year": str(2**63)},
              {"occurred_at__year": "9999", "occurred_at__month": "12", "occurred_at__day": "31"}],
)  # fmt: skip
def test_a_date_hierarchy_value_no_date_holds_is_an_invalid_filter(coord, query):
    # SEC-17: ValueError or OverflowError building the list's date bounds, a 500 before.
    response = _client(coord).get(reverse("admin:core_domainevent_changelist"), query)
    assert response.status_code == 302
    assert response.url.endswith("?e=1")


@pytest.mark.parametrize("court", ["abc", " ", "1.5"])
def test_an_autocomplete_field_holding_no_id_is_a_form_error(coord, court):
    # SEC-17: the form was valid enough to be shown again, and its autocomplete widget then
    # looked "abc" up as an id to show its label: a 500.
    response = _client(coord).post(reverse("admin:cases_caserequest_add"), admin_post(court=court))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert CaseRequest.objects.count() == 0
