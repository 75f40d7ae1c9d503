"""Hostile files through the case import (SEC-17, SEC-21): each is refused by the upload form,
fails its check with a message on the job's page, or shows its rows with their errors; never a
500, never a stuck job, and no case request written before a confirmation. Rows that do import
come out of the CSV export neutralised (a cell never starts a formula)."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.importing import COLUMNS, case_import_check
from cases.models import CaseImport, CaseRequest
from tests.cases.conftest import case_data
from tests.cases.test_import import _confirm, _content, _upload

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS).encode()
ROW = _content([case_data()]).split(b"\n", 1)[1]  # one valid row, CRLF-terminated
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]
UNREADABLE = "The file could not be read"
NOT_UTF8 = "This CSV file is not UTF-8 text"
NUL = "This text contains a NUL character"

# name: (the file's bytes, what the job's page says; None: the form refuses the upload)
FILES = {
    "invalid-utf8": (HEADER + b"\r\n" + ROW.replace(b"Maria", b"Mar\xffia"), NOT_UTF8),
    "utf16": (_content([case_data()]).decode().encode("utf-16"), NOT_UTF8),
    "nul-in-a-cell": (HEADER + b"\r\n" + ROW.replace(b"Maria", b"Ma\x00ria"), NUL),
    "nul-in-the-header": (HEADER.replace(b"summary", b"sum\x00mary") + b"\r\n" + ROW, "missing"),
    "empty": (b"", None),
    "header-only": (HEADER + b"\r\n", "no rows under its headings"),
    "no-header": (ROW, "missing"),
    "short-row": (HEADER + b"\r\nMaria,A-087-654-321\r\n", "This field is required"),
    # Cells past the last heading are no column's (most often a comma not quoted): refused.
    "long-row": (HEADER + b"\r\n" + ROW.rstrip() + b",x,y,z\r\n", "3 filled cell(s) under no"),
    "huge-field": (HEADER + b"\r\n" + ROW.replace(b"Asylum claim.", b"x" * 200_000), UNREADABLE),
    "long-field": (HEADER + b"\r\n" + ROW.replace(b"Asylum claim.", b"x" * 100_000), "at most"),
    "unclosed-quote": (HEADER + b'\r\n"' + ROW, "This field is required"),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, NOT_UTF8),
    "xlsx-named-csv": (_content([case_data()], "xlsx"), NOT_UTF8),
    "only-newlines": (b"\r\n" * 5000, "missing"),
}


@pytest.fixture
def importer(client, coord_viewer):
    """A coordinator who may see identifiers: the export then holds the respondents' names."""
    client.force_login(coord_viewer)
    return client


def _job_page(client, content: bytes):
    """Upload ``content`` as a .csv, run its check as the worker would, open the job's page."""
    response = _upload(client, SimpleUploadedFile("cases.csv", content))
    if response.status_code == 200:
        return response  # refused by the form
    assert response.status_code == 302, response.status_code
    case_import_check(case_import_id=CaseImport.objects.get().pk)
    return client.get(response.url)


@pytest.mark.parametrize("name", FILES)
def test_a_hostile_file_gets_a_message_and_writes_nothing(importer, name):
    content, message = FILES[name]
    page = _job_page(importer, content)
    assert page.status_code == 200
    if message is None:
        assert page.context["form"].errors["import_file"]
    else:
        assert message in page.content.decode()
        assert CaseImport.objects.get().status in ("failed", "checked")  # never stuck checking
    assert CaseRequest.objects.count() == 0


def test_a_bom_is_read_as_the_start_of_the_file(importer):
    page = _job_page(importer, b"\xef\xbb\xbf" + HEADER + b"\r\n" + ROW)
    assert page.context["job"].rows_valid == 1


def test_formula_cells_import_as_text_and_export_neutralised(importer):  # SEC-24
    rows = [
        case_data(respondent_name=f"{formula} {n}", a_number="", summary=formula)
        for n, formula in enumerate(FORMULAS)
    ]
    page = _job_page(importer, _content(rows))
    assert page.context["job"].rows_valid == len(rows)
    assert CaseRequest.objects.count() == 0  # nothing before the confirmation
    _confirm(importer, page)
    cases = CaseRequest.objects.order_by("pk")
    assert [c.summary for c in cases] == [f.strip() for f in FORMULAS]
    changelist = reverse("admin:cases_caserequest_changelist")
    data = {"action": "export_selected", ACTION_CHECKBOX_NAME: [c.pk for c in cases]}
    export = importer.post(changelist, data)
    cells = [cell for row in csv.reader(io.StringIO(export.getvalue().decode())) for cell in row]
    assert "'=cmd|' /C calc'!A0 0" in cells  # the name, as text
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_comma_not_quoted_refuses_its_row_and_imports_the_others(importer):
    """Its cells moved one column right; read without the last, the row might still pass its
    checks with every value after the comma in the wrong field."""
    good, shifted = case_data(respondent_name="Ana Ruiz"), case_data(respondent_name="Ruiz")
    lines = _content([good, shifted]).split(b"\r\n")
    lines[2] = lines[2].replace(b"Ruiz", b"Ruiz, Maria", 1)  # the row's first cell, unquoted
    page = _job_page(importer, b"\r\n".join(lines))
    job = page.context["job"]
    assert (job.rows_valid, job.rows_invalid) == (1, 1)
    assert "1 filled cell(s) under no heading" in page.content.decode()
    assert CaseRequest.objects.count() == 0
