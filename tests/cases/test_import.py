"""Bulk import in the admin: upload, a background check, a bounded preview with row errors,
nothing written until confirmed, then exactly the good rows, each through case_request_create,
imported in background batches (SEC-21, issue 11 #14). The tasks' service calls stand in for the
worker here: the test transaction never commits, so nothing is enqueued by the views."""

import io
import logging
import time
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
import tablib
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import importing, tasks
from cases.importing import (
    COLUMNS,
    case_import_check,
    case_import_run,
    case_imports_expire,
    import_template,
)
from cases.models import CaseImport, CaseRequest
from cases.services import case_request_create
from cases.validation import ReferenceCache
from core.models import DomainEvent
from tests.cases.conftest import case_data

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:cases_caserequest_import")
PROCESS = reverse("admin:cases_caserequest_process_import")

GOOD = [
    case_data(respondent_name="Good One", a_number="A-111-111-111"),
    case_data(respondent_name="Good Two", a_number="222222222", language="spa", other_languages=""),
    case_data(
        respondent_name="Good Three", a_number="", detained="yes", case_type="bond",
        detention_facility="Krome",
    ),
]  # fmt: skip
BAD = [
    case_data(respondent_name="Bad Number", a_number="A-12"),
    case_data(respondent_name="Bad Court", a_number="A-333-333-333", court="atlantis"),
    # The same A-number as a good row above: a duplicate within the file.
    case_data(respondent_name="Bad Duplicate", a_number="111-111-111"),
]
SECRETS = ["Good One", "Good Two", "Bad Number", "Bad Duplicate", "111111111", "111-111-111"]


def _content(rows, fmt="csv") -> bytes:
    dataset = tablib.Dataset(headers=list(COLUMNS))
    for row in rows:
        dataset.append([row[name] for name in COLUMNS])
    content = dataset.export(fmt)
    return content.encode() if isinstance(content, str) else content


def _file(rows, fmt="csv"):
    return SimpleUploadedFile(f"cases.{fmt}", _content(rows, fmt))


def _upload(client, upload):
    return client.post(IMPORT, {"import_file": upload})


def _preview(client, rows, fmt="csv"):
    """Upload, run the check as the worker would, and open the preview page."""
    response = _upload(client, _file(rows, fmt))
    assert response.status_code == 302, response.content
    job = CaseImport.objects.latest("pk")
    case_import_check(case_import_id=job.pk)
    return client.get(response.url)


def _confirm(client, preview, **extra):
    """Post the preview's confirmation, then run the import as the worker would."""
    token = preview.context["confirm_form"]["import_file_name"].value()
    response = client.post(PROCESS, {"import_file_name": token, **extra})
    job = CaseImport.objects.latest("pk")
    case_import_run(case_import_id=job.pk)
    return response


@pytest.fixture
def importer(client, coord):
    client.force_login(coord)
    return client


def test_a_clean_file_is_previewed_then_imported_through_the_service(importer, coord):
    preview = _preview(importer, GOOD)
    assert preview.status_code == 200
    assert CaseRequest.objects.count() == 0  # the check writes nothing
    job = preview.context["job"]
    assert (job.status, job.rows_total, job.rows_invalid) == ("checked", 3, 0)
    body = preview.content.decode()
    assert "Rows that will be imported" in body and "Import 3 case requests" in body
    assert "Good One" not in body and "111-111-111" not in body  # preview masks identifiers
    response = _confirm(importer, preview)
    assert response.status_code == 302
    assert CaseRequest.objects.filter(source="import", created_by=coord).count() == 3
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 3
    assert DomainEvent.objects.get(verb="case_request.imported").data == {"new": 3, "skipped": 0}
    bond = CaseRequest.objects.get(case_type_id="bond")
    assert bond.detained and bond.priority_parts["detention"] == 300
    done = importer.get(response.url).content.decode()
    assert "Imported 3 case requests" in done


def test_a_mixed_file_shows_row_errors_inline_and_writes_nothing_until_confirmed(importer):
    # SEC-21
    preview = _preview(importer, GOOD + BAD)
    job = preview.context["job"]
    assert (job.rows_total, job.rows_invalid, job.rows_valid) == (6, 3, 3)
    errors = {row["row"]: dict(row["errors"]) for row in job.preview["errors"]}
    assert set(errors) == {4, 5, 6}
    assert "a number" in errors[4] and "court" in errors[5]
    assert "earlier row" in errors[6]["a number"]
    assert [row["row"] for row in job.preview["valid"]] == [1, 2, 3]
    assert CaseRequest.objects.count() == 0
    body = preview.content.decode()
    assert "3 rows of this file have errors" in body
    assert "This A-number is on an earlier row of the file." in body  # the message, on the page
    for secret in SECRETS:
        assert secret not in body  # error rows are shown with identifiers masked

    # Confirming without ticking "only the valid rows" writes nothing.
    refused = _confirm(importer, preview)
    assert refused.status_code == 302
    job.refresh_from_db()
    assert job.status == "checked" and CaseRequest.objects.count() == 0
    page = importer.get(refused.url).content.decode()
    assert "Tick the box to import the valid rows" in page

    _confirm(importer, preview, confirm_skip_invalid_rows="on")
    imported = sorted(c.respondent_name for c in CaseRequest.objects.all())
    assert imported == ["Good One", "Good Three", "Good Two"]
    job.refresh_from_db()
    assert (job.status, job.rows_imported, job.rows_skipped) == ("done", 3, 3)


def test_a_file_that_gained_errors_since_its_preview_imports_nothing(importer, coord):  # SEC-21
    preview = _preview(importer, GOOD)
    case_request_create(data=GOOD[1], created_by=coord, source="coordinator")  # meanwhile
    _confirm(importer, preview)
    job = CaseImport.objects.get()
    assert job.status == "failed" and "Nothing was imported" in job.failure
    assert CaseRequest.objects.count() == 1
    assert bytes(job.content) == b""


def test_xlsx_files_import_too(importer):
    preview = _preview(importer, GOOD[:1], fmt="xlsx")
    assert preview.context["job"].rows_valid == 1
    _confirm(importer, preview)
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
    assert preview.context["job"].rows_valid == 1


def test_staff_without_add_permission_cannot_import(client, staff_plain):
    client.force_login(staff_plain)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"import_file": _file(GOOD)}).status_code == 403
    assert CaseImport.objects.count() == 0


def test_import_logs_hold_no_name_or_a_number(importer, caplog):  # SEC-23
    with caplog.at_level(logging.DEBUG):
        preview = _preview(importer, GOOD + BAD)
        _confirm(importer, preview, confirm_skip_invalid_rows="on")
    assert CaseRequest.objects.count() == 3
    for secret in SECRETS:
        assert secret not in caplog.text


def test_the_waiting_upload_is_encrypted_at_rest(importer):  # SEC-22
    _preview(importer, GOOD)
    stored = bytes(CaseImport.objects.get().content)
    assert b"Good One" not in stored and stored.startswith(b"gAAAA")


def test_a_row_with_a_detained_person_and_no_facility_is_an_error_in_the_preview(importer):
    # SEC-18: the import applies the intake forms' rule (cases.validation).
    row = case_data(a_number="", detained="yes", case_type="bond", detention_facility="")
    [error] = _preview(importer, [row]).context["job"].preview["errors"]
    assert "Name the facility where the person is detained" in str(error["errors"])


def test_a_row_duplicating_a_stored_case_is_an_error_in_the_preview(client, coord_viewer, case_x):
    client.force_login(coord_viewer)
    preview = _preview(client, [case_data(respondent_name="Again")])
    [row] = preview.context["job"].preview["errors"]
    assert row["errors"] == [
        ["a number", f"A case request with this A-number already exists: {case_x.reference}."]
    ]


# Limits and tokens (issue 11 #14) --------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_with_a_form_error(importer, settings):  # SEC-17
    settings.IMPORT_MAX_UPLOAD_BYTES = 2000
    response = _upload(importer, _file(GOOD * 10))
    assert response.status_code == 200
    assert "larger than" in str(response.context["form"].errors["import_file"])
    assert CaseImport.objects.count() == 0


def _bomb(*, size: int) -> bytes:
    """An XLSX-looking archive whose one sheet expands from a few KB to ``size`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * size + b">")
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_parsed(importer):  # SEC-17
    with mock.patch("openpyxl.load_workbook") as parse:
        response = _upload(importer, SimpleUploadedFile("cases.xlsx", _bomb(size=20 * 2**20)))
    assert response.status_code == 200
    assert "expands to more than" in str(response.context["form"].errors["import_file"])
    assert CaseImport.objects.count() == 0
    parse.assert_not_called()


def test_an_xlsx_expanding_beyond_the_limit_is_refused_even_at_a_plain_ratio(importer, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 4096  # the real 1-row template expands to ~13 KB
    response = _upload(importer, _file(GOOD[:1], "xlsx"))
    assert "expands to more than" in str(response.context["form"].errors["import_file"])
    assert CaseImport.objects.count() == 0


def test_an_xlsx_of_too_many_parts_is_refused_before_it_is_parsed(importer):  # SEC-17
    """Each part is small and plainly compressed; their number alone is the attack (every one
    is a file openpyxl would open and index)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(importing.MAX_ARCHIVE_MEMBERS + 1):
            archive.writestr(f"xl/media/part{number}.xml", "<a/>")
    with mock.patch("openpyxl.load_workbook") as parse:
        response = _upload(importer, SimpleUploadedFile("cases.xlsx", buffer.getvalue()))
    assert "expands to more than" in str(response.context["form"].errors["import_file"])
    assert CaseImport.objects.count() == 0
    parse.assert_not_called()


def test_the_worker_refuses_a_zip_bomb_too(coord):  # SEC-17: never trust the form alone
    upload = SimpleUploadedFile("cases.xlsx", _bomb(size=20 * 2**20))
    job = importing.case_import_upload(file=upload, created_by=coord)
    with mock.patch("openpyxl.load_workbook") as parse:
        case_import_check(case_import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "expands to more than" in job.failure
    parse.assert_not_called()


def test_a_file_with_more_rows_than_the_limit_fails_its_check(importer, settings):
    settings.IMPORT_MAX_ROWS = 2
    preview = _preview(importer, GOOD)
    job = preview.context["job"]
    assert job.status == "failed" and "more than 2 rows" in job.failure
    assert "more than 2 rows" in preview.content.decode()


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"name,other\nx,y\n", b""])
def test_an_unreadable_file_fails_its_check_with_a_message(importer, content):  # SEC-17
    response = _upload(importer, SimpleUploadedFile("cases.csv", content))
    if response.status_code == 200:  # an empty upload is refused by the form itself
        assert response.context["form"].errors
        return
    job = CaseImport.objects.get()
    case_import_check(case_import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.failure
    assert importer.get(response.url).status_code == 200


def test_another_kind_of_file_is_refused(importer):
    response = _upload(importer, SimpleUploadedFile("passwords.txt", b"a,b\n"))
    assert "Upload a .csv or .xlsx file" in str(response.context["form"].errors)
    assert CaseImport.objects.count() == 0


@pytest.mark.parametrize("token", ["/etc/passwd", "../../etc/passwd", "tmpabc123", "1:bad:sig"])
def test_a_confirmation_with_a_forged_token_is_refused_clearly(importer, token):  # SEC-17
    _preview(importer, GOOD)
    response = importer.post(PROCESS, {"import_file_name": token}, follow=True)
    assert response.status_code == 200
    assert "unknown or has expired" in response.content.decode()
    assert CaseImport.objects.get().status == "checked"
    assert CaseRequest.objects.count() == 0


def test_a_confirmation_older_than_the_preview_is_refused(importer, settings):  # SEC-17
    _preview(importer, GOOD)
    job = CaseImport.objects.get()
    signed = time.time() - (settings.IMPORT_PREVIEW_TTL_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=signed):
        token = importing.case_import_token(job)
    response = importer.post(PROCESS, {"import_file_name": token}, follow=True)
    assert "unknown or has expired" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "checked" and CaseRequest.objects.count() == 0


def test_a_confirmation_sent_again_is_refused_and_imports_once(importer, coord):
    """The first confirmation queued the import; the second (Back, then Confirm) finds the job
    no longer waiting and changes nothing."""
    _confirm(importer, _preview(importer, GOOD))
    job = CaseImport.objects.get()
    with pytest.raises(importing.CaseImportRefused, match="not waiting for a confirmation"):
        importing.case_import_confirm(case_import=job, skip_invalid_rows=False, actor=coord)
    job.refresh_from_db()
    assert job.status == "done" and CaseRequest.objects.count() == len(GOOD)
    assert DomainEvent.objects.filter(verb="case_import.confirmed").count() == 1


def test_a_batch_that_fails_half_way_imports_none_of_its_rows(importer, monkeypatch):
    """A batch and the job's progress commit together: a worker that fails inside one leaves
    nothing of it, and the redelivery imports the batch whole (never a row twice)."""
    create = importing.case_request_create
    calls = []

    def second_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return create(**kwargs)

    preview = _preview(importer, GOOD)
    token = preview.context["confirm_form"]["import_file_name"].value()
    importer.post(PROCESS, {"import_file_name": token})
    job = CaseImport.objects.get()
    monkeypatch.setattr(importing, "case_request_create", second_fails)
    with pytest.raises(RuntimeError):
        case_import_run(case_import_id=job.pk)
    job.refresh_from_db()
    assert (job.rows_done, CaseRequest.objects.count()) == (0, 0)


def test_another_coordinators_import_is_out_of_reach(importer, client, coord):  # SEC-12
    preview = _preview(importer, GOOD)
    token = preview.context["confirm_form"]["import_file_name"].value()
    other = type(coord).objects.create_user("coord2@example.org", is_staff=True)
    other.groups.set(coord.groups.all())
    from tests.conftest import _with_totp

    client.force_login(_with_totp(other))
    job = CaseImport.objects.get()
    assert (
        client.get(reverse("admin:cases_caserequest_import_job", args=[job.pk])).status_code == 404
    )
    response = client.post(PROCESS, {"import_file_name": token}, follow=True)
    assert "unknown or has expired" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "checked"


def test_a_token_only_names_a_job_id_signed_by_the_app(importer):
    preview = _preview(importer, GOOD)
    token = preview.context["confirm_form"]["import_file_name"].value()
    job = CaseImport.objects.get()
    assert signing.loads(token, salt=importing.TOKEN_SALT) == job.pk
    assert "/" not in token and "tmp" not in token


# Background work: progress, redelivery, sweeping (REL-2, REL-3) -------------------------------


def test_the_upload_enqueues_the_check_after_commit_with_the_id_only(
    importer, django_capture_on_commit_callbacks
):  # REL-1, SEC-23
    with (
        mock.patch.object(tasks.case_import_check, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        _upload(importer, _file(GOOD))
    delay.assert_called_once_with(CaseImport.objects.get().pk)


def test_the_confirmation_enqueues_the_import_after_commit(
    importer, django_capture_on_commit_callbacks
):  # REL-1
    preview = _preview(importer, GOOD)
    token = preview.context["confirm_form"]["import_file_name"].value()
    with (
        mock.patch.object(tasks.case_import_run, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        importer.post(PROCESS, {"import_file_name": token})
    job = CaseImport.objects.get()
    delay.assert_called_once_with(job.pk)
    assert job.status == "importing" and CaseRequest.objects.count() == 0


def test_the_page_shows_the_progress_of_a_running_import(importer, monkeypatch):
    preview = _preview(importer, GOOD)
    token = preview.context["confirm_form"]["import_file_name"].value()
    importer.post(PROCESS, {"import_file_name": token})
    job = CaseImport.objects.get()
    CaseImport.objects.filter(pk=job.pk).update(rows_done=2)
    page = importer.get(reverse("admin:cases_caserequest_import_job", args=[job.pk]))
    body = page.content.decode()
    assert "Importing: 2 of 3 rows" in body and 'http-equiv="refresh"' in body


def test_an_interrupted_import_goes_on_without_importing_a_row_twice(importer, monkeypatch):
    # REL-3: a worker that dies mid-import has its task redelivered; batches already committed
    # are not imported again. Rows without an A-number would otherwise be doubled silently.
    rows = [case_data(a_number="", respondent_name=f"No Number {n}") for n in range(5)]
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    preview = _preview(importer, rows)
    token = preview.context["confirm_form"]["import_file_name"].value()
    importer.post(PROCESS, {"import_file_name": token})
    job = CaseImport.objects.get()
    real_create, calls = importing.case_request_create, []

    def dies_on_the_third_row(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real_create(**kwargs)

    with (
        mock.patch.object(importing, "case_request_create", dies_on_the_third_row),
        pytest.raises(RuntimeError),
    ):
        case_import_run(case_import_id=job.pk)
    job.refresh_from_db()
    assert (job.rows_done, CaseRequest.objects.count()) == (2, 2)  # the first batch committed
    case_import_run(case_import_id=job.pk)  # the redelivery
    case_import_run(case_import_id=job.pk)  # and a duplicate delivery: nothing more
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_imported) == ("done", 5, 5)
    assert CaseRequest.objects.count() == 5


def test_the_sweeper_enqueues_jobs_whose_task_was_lost(importer):  # REL-2, SEC-23
    _preview(importer, GOOD)
    _upload(importer, _file(GOOD[:1]))
    waiting = CaseImport.objects.get(status="checking")
    CaseImport.objects.filter(pk=waiting.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    with (
        mock.patch.object(tasks.case_import_check, "delay") as check,
        mock.patch.object(tasks.case_import_run, "delay") as run,
    ):
        assert tasks.case_imports_sweep() == 1
    check.assert_called_once_with(waiting.pk)
    run.assert_not_called()


def test_unconfirmed_uploads_are_deleted_after_their_time(importer, settings):
    _preview(importer, GOOD)  # checked, never confirmed
    preview = _preview(importer, GOOD[:1])
    _confirm(importer, preview)  # done: kept, without its file
    later = timezone.now() + timedelta(hours=settings.IMPORT_PREVIEW_TTL_HOURS, minutes=1)
    assert case_imports_expire(now=later) == 1
    [done] = CaseImport.objects.all()
    assert done.status == "done" and bytes(done.content) == b""


def test_a_late_second_delivery_never_imports_a_batch_twice(importer):  # REL-3
    # Two deliveries of one job (the sweeper's and a slow worker's) both read rows_done = 0; the
    # lock on the job row and the re-read of its progress let only the first import the batch.
    rows = [case_data(a_number="", respondent_name=f"No Number {n}") for n in range(3)]
    preview = _preview(importer, rows)
    token = preview.context["confirm_form"]["import_file_name"].value()
    importer.post(PROCESS, {"import_file_name": token})
    job = CaseImport.objects.get()
    batch = list(importing._job_rows(job))
    assert importing._import_batch(job.pk, 0, batch, refs=ReferenceCache())
    assert importing._import_batch(job.pk, 0, batch, refs=ReferenceCache())  # the late one
    assert CaseRequest.objects.count() == 3
    job.refresh_from_db()
    assert (job.rows_done, job.rows_imported) == (3, 3)
