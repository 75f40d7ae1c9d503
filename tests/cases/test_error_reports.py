"""A 500 on any view that receives identifiers mails the admins a report without them (SEC-5).

Each test forces a failure inside the view after it has read the request, then reads the report
in mail.outbox: no name, no A-number in any spelling, no contact route, no uploaded file's name.
"""

import pytest
import tablib
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases.importing import (
    COLUMNS,
    case_import_check,
    case_import_token,
    case_import_upload,
)
from tests.cases.conftest import CANONICAL, NAME, case_data
from tests.cases.test_admin import admin_post
from tests.cases.test_views import form_post

pytestmark = pytest.mark.django_db

CONTACT = "Ask Sister Ana at the Dilley shelter"
SECRETS = [NAME, "Maria", CANONICAL, "A-087-654-321", "087-654-321", "A087654321", CONTACT]


class Boom(RuntimeError):
    pass


def _boom(*args, **kwargs):
    raise Boom("forced failure")


@pytest.fixture(autouse=True)
def admins(settings):
    settings.ADMINS = ["ops@example.org"]


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_report_is_clean() -> None:
    assert len(mail.outbox) == 1, "the 500 was reported"
    report = mail.outbox[0].subject + mail.outbox[0].body
    assert "Boom" in report  # it is the report of the forced failure
    for secret in SECRETS:
        assert secret not in report
        assert secret.lower() not in report.lower()


def test_the_admin_add_form(coord, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.admin.case_request_create_by_coordinator", _boom)
    from cases.models import ImmigrationCourt

    court = ImmigrationCourt.objects.get(code="new-york-city")
    data = admin_post(court=court.pk, contact_route=CONTACT)
    response = _client(coord).post(reverse("admin:cases_caserequest_add"), data)
    assert response.status_code == 500
    assert_report_is_clean()


def test_the_admin_change_form(coord_viewer, case_x, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.admin.case_request_update", _boom)
    data = admin_post(court=case_x.court_id, contact_route=CONTACT, a_number="A087654321")
    url = reverse("admin:cases_caserequest_change", args=[case_x.pk])
    response = _client(coord_viewer).post(url, data)
    assert response.status_code == 500
    assert_report_is_clean()


def test_the_admin_a_number_lookup(coord_viewer, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.admin.case_requests_by_a_number", _boom)
    url = reverse("admin:cases_caserequest_find_a_number")
    response = _client(coord_viewer).post(url, {"a_number": "A-087-654-321"})
    assert response.status_code == 500
    assert_report_is_clean()


def test_the_partner_intake_form(partner_x, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.views.case_request_submit_by_partner", _boom)
    response = _client(partner_x).post(reverse("cases:create"), form_post(contact_route=CONTACT))
    assert response.status_code == 500
    assert_report_is_clean()


def test_the_partner_edit_form(partner_x, case_x, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.views.case_request_edit_by_partner", _boom)
    url = reverse("cases:edit", args=[case_x.reference])
    response = _client(partner_x).post(url, form_post(contact_route=CONTACT))
    assert response.status_code == 500
    assert_report_is_clean()


def _upload(name: str) -> SimpleUploadedFile:
    dataset = tablib.Dataset(headers=list(COLUMNS))
    row = case_data(contact_route=CONTACT)
    dataset.append([row[column] for column in COLUMNS])
    return SimpleUploadedFile(name, dataset.export("csv").encode())


def test_the_import_upload(coord, monkeypatch):  # SEC-5
    monkeypatch.setattr("cases.admin.case_import_upload", _boom)
    upload = _upload(f"{NAME} A087654321.csv")
    response = _client(coord).post(
        reverse("admin:cases_caserequest_import"), {"import_file": upload}
    )
    assert response.status_code == 500
    assert_report_is_clean()


def test_the_import_confirmation(coord, monkeypatch):  # SEC-5
    job = case_import_upload(file=_upload(f"{NAME} A087654321.csv"), created_by=coord)
    case_import_check(case_import_id=job.pk)
    monkeypatch.setattr("cases.admin.case_import_confirm", _boom)
    response = _client(coord).post(
        reverse("admin:cases_caserequest_process_import"),
        {"import_file_name": case_import_token(job)},
    )
    assert response.status_code == 500
    assert_report_is_clean()
