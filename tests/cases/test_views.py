"""Partner intake pages: staff of organization X see and edit only X's requests (SEC-12)."""

import logging
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from tests.cases.conftest import CANONICAL, NAME, case_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def form_post(**overrides):
    """The intake form as a browser sends it: the page's fresh submission token included (an
    edit ignores it)."""
    data = {"submission_token": str(uuid.uuid4()), **case_data(**overrides)}
    data["court"] = str(_court_pk(data.pop("court")))
    data["language_code"] = data.pop("language")
    data["relay_language"] = ""
    data["relay_interpreter_ok"] = ""
    for box in ("detained", "remote_ok"):  # an unticked checkbox is absent from a POST
        if data[box] == "no":
            del data[box]
    return data


def _court_pk(code):
    from cases.models import ImmigrationCourt

    return ImmigrationCourt.objects.get(code=code).pk


# The permission matrix of these URLs (SEC-12, SEC-13): actor, URL, expected status.
@pytest.mark.parametrize(
    ("actor", "url_name", "expected"),
    [
        ("anon", "list", 302),
        ("anon", "create", 302),
        ("anon", "detail", 302),
        ("anon", "edit", 302),
        ("partner_x", "list", 200),
        ("partner_x", "create", 200),
        ("partner_x", "detail", 200),
        ("partner_x", "edit", 200),
        ("partner_y", "list", 200),
        ("partner_y", "create", 200),
        ("partner_y", "detail", 404),
        ("partner_y", "edit", 404),
        ("att_a", "list", 404),
        ("att_a", "create", 404),
        ("att_a", "detail", 404),
        ("att_a", "edit", 404),
        ("coord", "list", 404),
        ("coord", "detail", 404),
        ("lapsed", "list", 404),
        ("lapsed", "detail", 404),
    ],
)
def test_permission_matrix_get(client, request, case_x, actor, url_name, expected):
    if actor == "lapsed":  # membership kept, partner role removed
        user = request.getfixturevalue("partner_x")
        user.groups.clear()
        client.force_login(user)
    elif actor != "anon":
        fixture = request.getfixturevalue(actor)
        client.force_login(getattr(fixture, "user", fixture))
    args = [case_x.reference] if url_name in {"detail", "edit"} else []
    assert client.get(reverse(f"cases:{url_name}", args=args)).status_code == expected


def test_partner_y_gets_404_on_posting_to_x_request_and_nothing_changes(
    client, partner_y, case_x
):  # SEC-12
    client.force_login(partner_y)
    changes = DomainEvent.objects.exclude(verb="access.refused")  # the refusal itself is audited
    before = changes.count()
    response = client.post(
        reverse("cases:edit", args=[case_x.reference]), form_post(summary="Hijacked")
    )
    assert response.status_code == 404
    case_x.refresh_from_db()
    assert case_x.summary == "Asylum claim." and changes.count() == before
    assert DomainEvent.objects.filter(verb="access.refused", actor=partner_y).exists()  # SEC-24


def test_an_unknown_reference_is_404(client, partner_x):
    client.force_login(partner_x)
    assert client.get(reverse("cases:detail", args=["PBM-00000000"])).status_code == 404


def test_a_partner_records_a_request_for_their_organization(client, partner_x, org_x):
    client.force_login(partner_x)
    response = client.post(reverse("cases:create"), form_post())
    case = CaseRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cases:detail", args=[case.reference])
    assert (case.organization, case.source, case.created_by) == (org_x, "partner", partner_x)
    assert (case.respondent_name, case.a_number, case.language_id) == (NAME, CANONICAL, "mam")
    assert NAME not in response.url and CANONICAL not in response.url  # SEC-23


def test_the_list_shows_only_the_own_organizations_requests(client, partner_x, case_x, case_y):
    client.force_login(partner_x)
    body = client.get(reverse("cases:list")).content.decode()
    assert case_x.reference in body and case_y.reference not in body


def test_viewing_a_full_record_is_logged(client, partner_x, case_x):  # SEC-24
    client.force_login(partner_x)
    body = client.get(reverse("cases:detail", args=[case_x.reference])).content.decode()
    assert NAME in body and "A-087-654-321" in body
    event = DomainEvent.objects.get(verb="case_request.identifiers_viewed")
    assert event.actor == partner_x and event.data["where"] == "partner"


def test_a_partner_edits_a_request_and_priority_follows(client, partner_x, case_x):
    client.force_login(partner_x)
    url = reverse("cases:edit", args=[case_x.reference])
    form = client.get(url).context["form"]
    assert form.initial["a_number"] == "A-087-654-321"
    data = form_post(detained="on", detention_facility="Krome", case_type="bond")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    case_x.refresh_from_db()
    assert case_x.detained and case_x.priority_parts["detention"] == 300
    assert case_x.respondent_name == NAME


def test_a_detained_person_without_a_facility_is_a_form_error(client, partner_x):  # SEC-18
    client.force_login(partner_x)
    data = form_post(detained="on", detention_facility="", case_type="bond", a_number="")
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 200
    [error] = response.context["form"].errors["detention_facility"]
    assert error.startswith("Name the facility where the person is detained")
    assert CaseRequest.objects.count() == 0


def test_a_duplicate_within_the_partners_own_organization_is_a_form_error(
    client, partner_x, case_x
):
    client.force_login(partner_x)
    response = client.post(reverse("cases:create"), form_post(a_number="087654321"))
    assert response.status_code == 200
    errors = response.context["form"].errors["a_number"]
    assert "already exists" in errors[0] and case_x.reference not in errors[0]
    assert CaseRequest.objects.count() == 1


def test_a_bad_a_number_is_reported_with_the_other_field_errors(client, partner_x):
    client.force_login(partner_x)
    data = form_post(a_number="12-34", next_hearing_date="31/31/2026")
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "8 or 9 digits" in str(errors["a_number"]) and "next_hearing_date" in errors
    assert CaseRequest.objects.count() == 0


def _visible(client, response) -> str:
    """What the partner sees after submitting: the page they land on, minus the new reference."""
    case = CaseRequest.objects.get(reference=response.url.strip("/").split("/")[-1])
    body = client.get(response.url).content.decode()
    listed = client.get(reverse("cases:list")).content.decode()
    return (body + listed).replace(case.reference, "REF")


def test_another_organizations_a_number_is_never_disclosed_to_the_partner(
    client, partner_x, case_y, coord, celery_eager, django_capture_on_commit_callbacks
):  # issue 11 #5: the partner A-number oracle
    client.force_login(partner_x)
    fresh = client.post(reverse("cases:create"), form_post(a_number="A-055-444-333"))
    assert fresh.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        repeat = client.post(reverse("cases:create"), form_post(a_number="A-011-222-333"))
    assert repeat.status_code == 302  # answered exactly like a fresh request
    held = CaseRequest.objects.get(reference=repeat.url.strip("/").split("/")[-1])
    assert "already" not in _visible(client, repeat)
    assert "Status: Open" in client.get(repeat.url).content.decode()
    assert case_y.reference not in client.get(repeat.url).content.decode()

    # Held for coordinator review: out of matching, the other case named, coordinators told.
    assert (held.status, held.duplicate_of, held.a_number_hash) == ("review", case_y, None)
    assert (
        held.a_number == "011222333"
        and held.organization == partner_x.partner_membership.organization
    )
    event = DomainEvent.objects.get(verb="case_request.duplicate_held_for_review")
    assert event.data == {"reference": held.reference, "duplicate_of": case_y.reference}
    [alert] = [m for m in mail.outbox if held.reference in m.subject]
    assert coord.email in alert.to  # every coordinator
    assert case_y.reference in alert.body and "011" not in alert.body and NAME not in alert.body


def test_a_case_recorded_by_a_coordinator_is_not_disclosed_either(client, partner_x, coord):
    from cases.services import case_request_create
    from tests.cases.conftest import case_data

    theirs = case_request_create(
        data=case_data(a_number="A-099-000-111"), created_by=coord, source="coordinator"
    )
    client.force_login(partner_x)
    response = client.post(reverse("cases:create"), form_post(a_number="099000111"))
    assert response.status_code == 302
    assert CaseRequest.objects.get(status="review").duplicate_of == theirs


def test_editing_into_another_organizations_a_number_is_held_for_review_unsaid(
    client, partner_x, case_x, case_y
):  # issue 11 #5
    client.force_login(partner_x)
    url = reverse("cases:edit", args=[case_x.reference])
    response = client.post(url, form_post(a_number="A-011-222-333"))
    assert response.status_code == 302
    case_x.refresh_from_db()
    assert (case_x.status, case_x.duplicate_of, case_x.a_number_hash) == ("review", case_y, None)
    assert "Status: Open" in client.get(response.url).content.decode()


def test_a_bad_date_is_a_form_error_and_nothing_is_written(client, partner_x):  # SEC-18
    client.force_login(partner_x)
    response = client.post(reverse("cases:create"), form_post(next_hearing_date="1920-01-01"))
    assert response.status_code == 200
    assert "next_hearing_date" in response.context["form"].errors
    assert CaseRequest.objects.count() == 0


def test_partner_intake_logs_hold_no_name_or_a_number(client, partner_x, caplog):  # SEC-23
    client.force_login(partner_x)
    with caplog.at_level(logging.DEBUG):
        client.post(reverse("cases:create"), form_post())
        client.post(reverse("cases:create"), form_post())  # the duplicate
    assert CaseRequest.objects.count() == 1
    for secret in (NAME, CANONICAL, "087-654-321", "555-0100"):
        assert secret not in caplog.text


def test_a_user_without_membership_is_not_a_partner(client):
    user = UserFactory(username="nobody@example.org")
    client.force_login(user)
    assert client.get(reverse("cases:create")).status_code == 404


def _inline_code(body):
    import re

    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    styles = re.findall(r"<style|\sstyle=", body)
    return scripts + styles


def test_intake_pages_have_no_inline_scripts_or_styles(client, partner_x, case_x):  # SEC-2
    client.force_login(partner_x)
    for url in (
        reverse("cases:list"),
        reverse("cases:create"),
        reverse("cases:detail", args=[case_x.reference]),
        reverse("cases:edit", args=[case_x.reference]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert _inline_code(response.content.decode()) == [], url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_admin_import_pages_have_no_inline_scripts_or_styles(client, coord):  # SEC-2
    client.force_login(coord)
    for name in ("admin:cases_caserequest_import", "admin:cases_caserequest_changelist"):
        body = client.get(reverse(name)).content.decode()
        assert _inline_code(body) == [], name


# One submission, one request (a double click, a resend of the same POST, a retried POST).


@pytest.mark.parametrize("a_number", ["", "A-055-444-333"], ids=["no A-number", "A-number"])
def test_the_same_request_sent_twice_is_recorded_once(client, partner_x, a_number):
    client.force_login(partner_x)
    data = form_post(a_number=a_number)
    first = client.post(reverse("cases:create"), data)
    again = client.post(reverse("cases:create"), data)
    case = CaseRequest.objects.get()
    assert (first.status_code, again.status_code) == (302, 302)
    assert first.url == again.url == reverse("cases:detail", args=[case.reference])
    assert str(case.submission_token) == data["submission_token"]
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1
    body = client.get(again.url).content.decode()
    assert (
        f"We already received this case request: it is recorded once, as {case.reference}" in body
    )


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "9" * 5000, None], ids=["empty", "malformed", "long", "missing"]
)
def test_a_missing_or_malformed_token_is_a_form_error_and_writes_nothing(client, partner_x, token):
    client.force_login(partner_x)
    data = form_post(a_number="")
    if token is None:
        del data["submission_token"]
    else:
        data["submission_token"] = token
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode()
    assert not CaseRequest.objects.exists()
    fresh = response.context["form"]["submission_token"].value()  # a good one, to send again
    assert (
        client.post(reverse("cases:create"), data | {"submission_token": fresh}).status_code == 302
    )


def test_another_organizations_token_is_refused_and_names_nothing(client, partner_x, partner_y):
    client.force_login(partner_y)
    data = form_post(a_number="")
    theirs = client.post(reverse("cases:create"), data)
    client.force_login(partner_x)
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "already used" in body and theirs.url.strip("/").split("/")[-1] not in body
    assert CaseRequest.objects.count() == 1


def test_a_twin_committed_after_the_lookup_is_found_not_a_500(client, partner_x, monkeypatch):
    """The unique violation path (twins that both passed the lookup): the first lookup misses
    as if the twin had not committed yet; the insert fails on the token and finds the twin."""
    from cases import services

    client.force_login(partner_x)
    data = form_post(a_number="")
    first = client.post(reverse("cases:create"), data)
    lookup, calls = services._partner_submitted, []

    def late(token, organization):
        calls.append(token)
        return None if len(calls) == 1 else lookup(token, organization)

    monkeypatch.setattr(services, "_partner_submitted", late)
    again = client.post(reverse("cases:create"), data)
    assert (again.status_code, again.url, len(calls)) == (302, first.url, 2)
    assert CaseRequest.objects.count() == 1


def test_only_the_new_request_form_carries_a_token(client, partner_x, case_x):
    client.force_login(partner_x)
    new = client.get(reverse("cases:create")).content.decode()
    edit = client.get(reverse("cases:edit", args=[case_x.reference])).content.decode()
    assert 'type="hidden" name="submission_token"' in new
    assert "submission_token" not in edit


# The same request again after Back and Send: the page is never cached, so the form comes back with
# a new token. Without an A-number (whose unique hash would refuse it), the same person's request
# that the organization recorded within REQUEST_REPEAT_WINDOW is asked about, not recorded twice.


def _create(client, **overrides):
    return client.post(reverse("cases:create"), form_post(a_number="", **overrides))


def _asked_about(response) -> bool:
    """The form again (200, as every refused form) with the "This is a different person" box's
    question on it."""
    return response.status_code == 200 and "again" in response.context["form"].errors


def test_the_same_request_sent_again_with_a_new_token_is_asked_about_not_recorded(
    client, partner_x, caplog
):
    client.force_login(partner_x)
    first = _create(client)
    case = CaseRequest.objects.get()
    mails = len(mail.outbox)
    with caplog.at_level(logging.DEBUG):
        again = _create(client)  # Back, then Send: a fresh token
    body = again.content.decode()
    assert again.status_code == 200
    [error] = again.context["form"].errors["again"]
    assert error.startswith("A request for this person (the same name, court, case type and ")
    assert f"a minute ago, as {case.reference}. If this is a different person" in error
    assert NAME not in error and NAME not in caplog.text  # SEC-23: only in the field they typed
    assert 'type="checkbox" name="again"' in body and "This is a different person" in body
    assert CaseRequest.objects.count() == 1 and len(mail.outbox) == mails
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1

    token = again.context["form"]["submission_token"].value()
    data = form_post(a_number="") | {"submission_token": token, "again": "on"}
    another = client.post(reverse("cases:create"), data)
    assert another.status_code == 302 and another.url != first.url
    assert CaseRequest.objects.count() == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"respondent_name": "  maria TZUL  ixcoy "},
        {"next_hearing_date": ""},
        {"summary": "Asylum claim; her brother is in Houston.", "contact_route": ""},
    ],
    ids=["name typed otherwise", "no hearing date", "other details"],
)
def test_the_same_person_typed_otherwise_is_asked_about(client, partner_x, overrides):
    client.force_login(partner_x)
    assert _create(client).status_code == 302
    assert _asked_about(_create(client, **overrides))
    assert CaseRequest.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"respondent_name": "Maria Tzul Ixcoy de Pérez"},
        {"court": "los-angeles"},
        {"case_type": "u-visa"},
        {"language": "spa", "other_languages": "", "relay_interpreter_ok": ""},
        {"next_hearing_date": (timezone.localdate() + timedelta(days=30)).isoformat()},
    ],
    ids=["another person", "another court", "another case type", "another language",
         "another hearing"],
)  # fmt: skip
def test_another_persons_request_is_recorded_without_asking(client, partner_x, overrides):
    client.force_login(partner_x)
    assert _create(client).status_code == 302
    assert _create(client, **overrides).status_code == 302
    assert CaseRequest.objects.count() == 2
    assert _asked_about(_create(client))  # and the first is still asked about
    assert CaseRequest.objects.count() == 2


def test_a_request_recorded_before_the_window_is_recorded_without_asking(client, partner_x):
    from cases.services import REQUEST_REPEAT_WINDOW

    client.force_login(partner_x)
    assert _create(client).status_code == 302
    CaseRequest.objects.update(created_at=timezone.now() - REQUEST_REPEAT_WINDOW)
    assert _create(client).status_code == 302
    assert _asked_about(_create(client))  # the one just recorded is
    assert CaseRequest.objects.count() == 2


def test_only_the_organizations_own_requests_are_asked_about(
    client, partner_x, partner_y, org_x, granter
):
    from cases.services import partner_membership_set

    client.force_login(partner_y)
    assert _create(client).status_code == 302
    client.force_login(partner_x)
    assert _create(client).status_code == 302  # another organization's: theirs, not said
    colleague = UserFactory(username="partner-x2@example.org")
    partner_membership_set(user=colleague, organization=org_x, actor=granter)
    client.force_login(colleague)
    assert _asked_about(_create(client))  # a colleague's: the same office, asked
    assert CaseRequest.objects.count() == 2


def test_a_request_with_an_a_number_is_left_to_the_a_number_rule(client, partner_x):
    """The same person with an A-number each time: its duplicate rule answers, not the box."""
    client.force_login(partner_x)
    assert client.post(reverse("cases:create"), form_post()).status_code == 302
    again = client.post(reverse("cases:create"), form_post())
    assert again.status_code == 200
    assert "already exists" in again.context["form"].errors["a_number"][0]
    assert "again" not in again.context["form"].errors
    assert _create(client).status_code == 302  # without it: not the request just recorded
    assert _asked_about(_create(client))  # but this one is
    assert CaseRequest.objects.count() == 2


def test_the_new_request_form_shows_no_box_until_it_asks(client, partner_x, case_x):
    client.force_login(partner_x)
    new = client.get(reverse("cases:create")).content.decode()
    edit = client.get(reverse("cases:edit", args=[case_x.reference])).content.decode()
    assert 'type="hidden" name="again"' in new and "This is a different person" not in new
    assert 'name="again"' not in edit
