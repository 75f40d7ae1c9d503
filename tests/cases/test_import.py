"""Bulk import in the admin: preview with row errors, nothing written until confirmed, then
exactly the good rows, each through case_request_create (SEC-21)."""

import io
import logging

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.importing import COLUMNS, import_template
from cases.models import CaseRequest
from core.models import DomainEvent
from tests.cases.conftest import case_data

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:cases_caserequest_import")
PROCESS = reverse("admin:cases_caserequest_process_import")
CSV_FORMAT = "0"
XLSX_FORMAT = "1"

GOOD = [
    case_data(respondent_name="Good One", a_number="A-111-111-111"),
    case_data(respondent_name="Good Two", a_number="222222222", language="spa", other_languages=""),
    case_data(respondent_name="Good Three", a_number="", detained="yes", case_type="bond"),
]
BAD = [
    case_data(respondent_name="Bad Number", a_number="A-12"),
    case_data(respondent_name="Bad Court", a_number="A-333-333-333", court="atlantis"),
    # The same A-number as a good row above: a duplicate within the file.
    case_data(respondent_name="Bad Duplicate", a_number="111-111-111"),
]
SECRETS = ["Good One", "Good Two", "Bad Number", "Bad Duplicate", "111111111", "111-111-111"]


def _file(rows, fmt="csv"):
    dataset = tablib.Dataset(headers=list(COLUMNS))
    for row in rows:
        dataset.append([row[name] for name in COLUMNS])
    content = dataset.export(fmt)
    content = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(f"cases.{fmt}", content)


def _preview(client, rows, fmt="csv"):
    fmt_index = CSV_FORMAT if fmt == "csv" else XLSX_FORMAT
    return client.post(IMPORT, {"import_file": _file(rows, fmt), "format": fmt_index})


def _confirm(preview, **extra):
    form = preview.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and k != "confirm_skip_invalid_rows"}
    return data | extra


@pytest.fixture
def importer(client, coord):
    client.force_login(coord)
    return client


def test_a_clean_file_is_previewed_then_imported_through_the_service(importer, coord):
    preview = _preview(importer, GOOD)
    assert preview.status_code == 200
    assert CaseRequest.objects.count() == 0  # the preview writes nothing
    result = preview.context["result"]
    assert result.totals["new"] == 3 and not result.has_validation_errors()
    body = preview.content.decode()
    assert "Good One" not in body and "111-111-111" not in body  # preview masks identifiers
    response = importer.post(PROCESS, _confirm(preview))
    assert response.status_code == 302
    assert CaseRequest.objects.filter(source="import", created_by=coord).count() == 3
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 3
    assert DomainEvent.objects.get(verb="case_request.imported").data == {"new": 3}
    bond = CaseRequest.objects.get(case_type_id="bond")
    assert bond.detained and bond.priority_parts["detention"] == 300


def test_a_mixed_file_shows_row_errors_and_writes_nothing_until_confirmed(importer):  # SEC-21
    preview = _preview(importer, GOOD + BAD)
    result = preview.context["result"]
    assert result.totals["new"] == 3
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(errors) == {4, 5, 6}
    assert "a_number" in errors[4] and "court" in errors[5]
    assert "earlier row" in errors[6]["a_number"][0]
    assert CaseRequest.objects.count() == 0
    body = preview.content.decode()
    assert "3 rows of this file have errors" in body
    for secret in SECRETS:
        assert secret not in body  # error rows are shown with identifiers masked

    # Confirming without ticking "only the valid rows" writes nothing.
    refused = importer.post(PROCESS, _confirm(preview))
    assert refused.status_code == 200
    assert "confirm_skip_invalid_rows" in refused.context["confirm_form"].errors
    assert CaseRequest.objects.count() == 0

    done = importer.post(PROCESS, _confirm(preview, confirm_skip_invalid_rows="on"))
    assert done.status_code == 302
    imported = sorted(c.respondent_name for c in CaseRequest.objects.all())
    assert imported == ["Good One", "Good Three", "Good Two"]


def test_a_hand_made_confirmation_without_the_skip_flag_writes_nothing(importer):
    preview = _preview(importer, GOOD + BAD)
    data = _confirm(preview)
    data.pop("skip_invalid_rows")
    response = importer.post(PROCESS, data)
    assert response.status_code == 302 and response.url == IMPORT
    assert CaseRequest.objects.count() == 0


def test_xlsx_files_import_too(importer):
    preview = _preview(importer, GOOD[:1], fmt="xlsx")
    assert preview.context["result"].totals["new"] == 1
    importer.post(PROCESS, _confirm(preview))
    assert CaseRequest.objects.get().respondent_name == "Good One"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloads_and_its_example_row_is_valid(importer, fmt):
    response = importer.get(reverse("admin:cases_caserequest_import_template", args=[fmt]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    dataset = tablib.Dataset().load(
        io.BytesIO(response.content).read() if fmt == "xlsx" else response.content.decode(), fmt
    )
    assert dataset.headers == list(COLUMNS)
    preview = _preview(importer, [dict(zip(COLUMNS, import_template()[0], strict=True))])
    assert preview.context["result"].totals["new"] == 1


def test_staff_without_add_permission_cannot_import(client, staff_plain):
    client.force_login(staff_plain)
    assert client.get(IMPORT).status_code == 403


def test_import_logs_hold_no_name_or_a_number(importer, caplog):  # SEC-23
    with caplog.at_level(logging.DEBUG):
        preview = _preview(importer, GOOD + BAD)
        importer.post(PROCESS, _confirm(preview, confirm_skip_invalid_rows="on"))
    assert CaseRequest.objects.count() == 3
    for secret in SECRETS:
        assert secret not in caplog.text


def test_the_waiting_upload_is_encrypted_on_disk(importer, tmp_path, settings):
    import tempfile
    from pathlib import Path

    preview = _preview(importer, GOOD)
    name = preview.context["confirm_form"]["import_file_name"].value()
    stored = (Path(tempfile.gettempdir()) / name).read_bytes()
    assert b"Good One" not in stored and stored.startswith(b"gAAAA")


def test_a_row_duplicating_a_stored_case_is_an_error_in_the_preview(client, coord_viewer, case_x):
    client.force_login(coord_viewer)
    preview = _preview(client, [case_data(respondent_name="Again")])
    [row] = preview.context["result"].invalid_rows
    assert row.error_dict["a_number"] == [
        f"A case request with this A-number already exists: {case_x.reference}."
    ]
