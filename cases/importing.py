"""Bulk import of case requests (CSV/XLSX), in four steps, every row through the intake services.

1. Upload (a web request): the form refuses a file above IMPORT_MAX_UPLOAD_BYTES and an XLSX
   whose archive would expand beyond its limit (a zip bomb), before anything parses it; the file
   is stored encrypted in a ``CaseImport`` row and the check is enqueued after commit.
2. Check (a task): every row goes through ``case_request_check`` (the intake validation and
   duplicate detection, one query per batch for the A-numbers), nothing is written; the counts
   and the first rows with errors and the first valid rows, identifiers masked, are the preview.
3. Confirm (a web request): with rows in error, only by ticking "import only the valid rows"
   (SEC-21); otherwise nothing is written.
4. Import (a task): rows go through ``case_request_create`` in batches, each batch in one
   transaction together with the job's progress (``rows_done``), under a lock on the job row: a
   redelivered or re-enqueued task goes on where the last batch committed and never imports a
   row twice. A file confirmed without errors is checked again before its first batch: a row
   that became invalid since the preview (a duplicate recorded meanwhile) fails the job with
   nothing written. A row that becomes a duplicate during the import itself is skipped and shown.

The file is read as a stream (csv, openpyxl read-only): a 100,000-row file never becomes 100,000
objects, and the preview keeps PREVIEW_ROWS rows of each kind, never the whole file.
"""

import csv
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any

import tablib
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from cases.crypto import decrypt_bytes, encrypt_bytes
from cases.models import CaseImport, CaseRequest
from cases.selectors import case_import_get_for_user
from cases.services import (
    IDENTIFIER_FIELDS,
    case_request_check,
    case_request_create,
    case_request_references_by_hash,
    matching_run_request_on_commit,
)
from cases.validation import FIELDS, CaseRequestInvalid, ReferenceCache
from core.errors import DomainError
from core.services import event_record

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = FIELDS
MASK = "•••"
# Columns of the preview tables; identifiers appear masked.
PREVIEW_COLUMNS = [
    "respondent_name", "a_number", "language", "court", "case_type", "detained",
    "next_hearing_date", "next_hearing_type",
]  # fmt: skip
PREVIEW_ROWS = 100  # rows with errors, and valid rows, kept for the preview (each)
BATCH_ROWS = 500  # rows per transaction of the import, and per progress update
# An XLSX is a zip archive. Real sheets compress about 15:1; a zip bomb, hundreds to thousands.
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_MEMBERS = 1000
TOKEN_SALT = "cases.import.confirm"  # noqa: S105 - a signing salt, not a secret


class ImportFileInvalid(DomainError):
    code = "import_file_invalid"


class CaseImportRefused(DomainError):
    code = "case_import_refused"


# The file -----------------------------------------------------------------------------------------


def import_file_format(name: str) -> str:
    """The format of an upload, from its name; ImportFileInvalid for anything else."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in CaseImport.Format.values:
        raise ImportFileInvalid("Upload a .csv or .xlsx file (the template is either).")
    return suffix


def import_file_check_archive(file) -> None:
    """Refuse an XLSX whose archive would expand too far, from its declared sizes, before any
    parser opens it. Python's zipfile stops reading a member at its declared size, so the
    declared sizes bound what openpyxl can be made to read."""
    try:
        members = zipfile.ZipFile(file).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileInvalid("This is not an Excel (.xlsx) file.") from None
    expanded = sum(member.file_size for member in members)
    ratio = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    if len(members) > MAX_ARCHIVE_MEMBERS or expanded > limit or ratio > MAX_COMPRESSION_RATIO:
        raise ImportFileInvalid(
            f"This Excel file expands to more than this import accepts ({limit // 2**20} MB, "
            "or compressed beyond any real sheet). Save it as CSV, or split it."
        )


# A row's count of filled cells under no heading (past the last one, or under an empty one).
UNNAMED_CELLS = "__unnamed_cells__"


def _unnamed_cells_refused(data: dict) -> None:
    """A row with cells under no heading is refused, not read without them: most often a value
    with a comma that was not quoted, which moved every cell after it one column right."""
    if data.get(UNNAMED_CELLS):
        raise CaseRequestInvalid(
            {
                "__all__": [
                    f"This row has {data[UNNAMED_CELLS]} filled cell(s) under no heading. A value "
                    "with a comma must be in quotes; check that each value is in its column."
                ]
            }
        )


def _rows(content: bytes, file_format: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, values by column) for every non-empty row; row 1 is the first under the
    headings. Raises ImportFileInvalid for a file that cannot be read or lacks columns."""
    lines = _xlsx_lines(content) if file_format == CaseImport.Format.XLSX else _csv_lines(content)
    try:
        header = [str(name or "").strip() for name in next(lines, ())]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise ImportFileInvalid(
                "The first row must name the template's columns; missing: " + ", ".join(missing)
            )
        for number, values in enumerate(lines, start=1):
            if any(value not in (None, "") for value in values):
                data = dict(zip(header, values, strict=False))
                unnamed = [
                    value
                    for k, value in enumerate(values)
                    if value not in (None, "") and (k >= len(header) or not header[k])
                ]
                if unnamed:
                    data[UNNAMED_CELLS] = len(unnamed)
                yield number, data
    except ImportFileInvalid:
        raise
    except Exception as error:
        # csv, zipfile, openpyxl and lxml each raise their own kinds on a damaged file; none may
        # become a 500 or a stuck job. Only the kind is logged: the message may quote a cell.
        logger.info("Case import: unreadable file (%s).", type(error).__name__)
        raise ImportFileInvalid(
            "The file could not be read. Check that it is the template saved as CSV (UTF-8) "
            "or Excel (.xlsx)."
        ) from None


def _csv_lines(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileInvalid("This CSV file is not UTF-8 text: save it as CSV UTF-8.") from None
    return csv.reader(io.StringIO(text))


def _xlsx_lines(content: bytes) -> Iterator[tuple]:
    import openpyxl  # here, not at the top: ~0.2 s at every process's start-up

    import_file_check_archive(io.BytesIO(content))  # again: the worker never trusts the form
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # damaged archive or XML: see _rows
        raise ImportFileInvalid("This Excel file could not be read.") from None
    return book.active.iter_rows(values_only=True)


def _job_rows(job: CaseImport) -> Iterator[tuple[int, dict[str, Any]]]:
    return _rows(decrypt_bytes(bytes(job.content)), job.file_format)


def _batches(rows, size: int):
    while batch := list(islice(rows, size)):
        yield batch


# The preview --------------------------------------------------------------------------------------


@dataclass
class _Report:
    """Counts and the first rows of each kind, masked: what the preview shows."""

    rows: int = 0
    invalid: int = 0
    errors: list[dict] = field(default_factory=list)
    valid: list[dict] = field(default_factory=list)

    def refused(self, number: int, data: dict, error: CaseRequestInvalid) -> None:
        self.rows += 1
        self.invalid += 1
        if len(self.errors) < PREVIEW_ROWS:
            messages = [[_label(name), m] for name, ms in error.errors.items() for m in ms]
            self.errors.append({"row": number, "cells": _cells(data), "errors": messages})

    def accepted(self, number: int, data: dict) -> None:
        self.rows += 1
        if len(self.valid) < PREVIEW_ROWS:
            self.valid.append({"row": number, "cells": _cells(data)})

    def as_preview(self) -> dict:
        return {"columns": [_label(n) for n in PREVIEW_COLUMNS], "errors": self.errors,
                "valid": self.valid}  # fmt: skip


def _cells(data: dict) -> list[str]:
    return [_shown(name, data.get(name)) for name in PREVIEW_COLUMNS]


def _shown(name: str, value) -> str:
    if value in (None, ""):
        return ""
    text = str(value)[:60]
    return MASK if name in IDENTIFIER_FIELDS else text


def _label(name: str) -> str:
    return "row" if name == "__all__" else name.replace("_", " ")


def _check_rows(rows, *, actor, on_batch=None, limit: int | None = None) -> _Report:
    """Every row through ``case_request_check``; ``taken`` collects the file's own A-numbers."""
    report, refs = _Report(), ReferenceCache()
    taken: dict[str, str] = {}
    for batch in _batches(rows, BATCH_ROWS):
        if limit is not None and report.rows + len(batch) > limit:
            raise ImportFileInvalid(
                f"This file has more than {limit:,} rows: split it into several files."
            )
        raw = [data.get("a_number") for _, data in batch if data.get("a_number")]
        for a_hash, reference in case_request_references_by_hash(raw_a_numbers=raw).items():
            taken.setdefault(a_hash, reference)  # an earlier row's mark stays
        for number, data in batch:
            try:
                _unnamed_cells_refused(data)
                case_request_check(data=_values(data), actor=actor, refs=refs, taken=taken)
            except CaseRequestInvalid as error:
                report.refused(number, data, error)
            else:
                report.accepted(number, data)
        if on_batch is not None:
            on_batch(report)
    return report


def _values(data: dict) -> dict[str, Any]:
    return {name: data.get(name) for name in COLUMNS}


# The confirmation's token -----------------------------------------------------------------------


def case_import_token(job: CaseImport) -> str:
    """What the confirmation form carries: the job's id, signed; never a path or a file name."""
    return signing.dumps(job.pk, salt=TOKEN_SALT)


def case_import_token_read(token: str, *, user) -> CaseImport:
    """The job a token names, if this user uploaded it; ImportFileInvalid for anything else."""
    try:
        job_id = signing.loads(token, salt=TOKEN_SALT, max_age=_ttl())
        return case_import_get_for_user(user=user, case_import_id=int(job_id))
    except (signing.BadSignature, TypeError, ValueError, Http404):
        raise ImportFileInvalid(
            "This upload is unknown or has expired: upload the file again."
        ) from None


def _ttl() -> timedelta:
    return timedelta(hours=settings.IMPORT_PREVIEW_TTL_HOURS)


# Services -----------------------------------------------------------------------------------------


def case_import_upload(*, file, created_by) -> CaseImport:
    """Store an upload (already size- and archive-checked by the form) encrypted, to be checked."""
    content = b"".join(file.chunks())
    with transaction.atomic():
        job = CaseImport.objects.create(
            created_by=created_by,
            file_format=import_file_format(file.name),
            content=encrypt_bytes(content),
        )
        event_record(
            verb="case_import.uploaded",
            actor=created_by,
            target=job,
            data={"format": job.file_format, "bytes": len(content)},
        )
    return job


def case_import_check(*, case_import_id: int) -> CaseImport | None:
    """The dry run behind the preview. Idempotent: a second run computes the same preview."""
    job = CaseImport.objects.filter(pk=case_import_id, status=CaseImport.Status.CHECKING).first()
    if job is None:
        return None  # expired, or already checked by an earlier delivery

    def progress(report: _Report) -> None:
        _update(job, CaseImport.Status.CHECKING, rows_checked=report.rows)

    try:
        report = _check_rows(
            _job_rows(job), actor=job.created_by, on_batch=progress, limit=settings.IMPORT_MAX_ROWS
        )
    except ImportFileInvalid as error:
        return _fail(job, CaseImport.Status.CHECKING, error.message)
    if report.rows == 0:
        return _fail(job, CaseImport.Status.CHECKING, "The file has no rows under its headings.")
    _update(
        job,
        CaseImport.Status.CHECKING,
        status=CaseImport.Status.CHECKED,
        rows_total=report.rows,
        rows_checked=report.rows,
        rows_invalid=report.invalid,
        preview=report.as_preview(),
    )
    return job


def case_import_confirm(*, case_import: CaseImport, skip_invalid_rows: bool, actor) -> CaseImport:
    """Queue a checked file for import. With rows in error, only if the user ticked "import only
    the valid rows" (SEC-21); the preview's counts in the row decide, not the posted form."""
    with transaction.atomic():
        job = CaseImport.objects.select_for_update().get(pk=case_import.pk)
        if job.status != CaseImport.Status.CHECKED:
            raise CaseImportRefused("This import is not waiting for a confirmation.")
        if job.rows_valid == 0:
            raise CaseImportRefused("No row of this file can be imported: correct it first.")
        if job.rows_invalid and not skip_invalid_rows:
            raise CaseImportRefused(
                "Tick the box to import the valid rows without the rows that have errors.",
                code="invalid_rows_not_skipped",
            )
        job.status = CaseImport.Status.IMPORTING
        job.skip_invalid_rows = bool(job.rows_invalid)
        job.save(update_fields=["status", "skip_invalid_rows", "updated_at"])
        event_record(
            verb="case_import.confirmed",
            actor=actor,
            target=job,
            data={"rows": job.rows_total, "skipped": job.rows_invalid},
        )
    return job


def case_import_run(*, case_import_id: int) -> CaseImport | None:
    """Import a confirmed file in batches; safe to run twice at once or again after a crash."""
    job = CaseImport.objects.filter(pk=case_import_id, status=CaseImport.Status.IMPORTING).first()
    if job is None:
        return None
    try:
        if job.rows_done == 0 and not job.skip_invalid_rows:
            report = _check_rows(_job_rows(job), actor=job.created_by)
            if report.invalid:
                return _fail(
                    job,
                    CaseImport.Status.IMPORTING,
                    f"Nothing was imported: {report.invalid} row(s) have had errors since the "
                    "preview (a case with the same A-number was recorded meanwhile). Upload the "
                    "file again to see them.",
                )
        refs = ReferenceCache()
        start = 0
        for batch in _batches(_job_rows(job), BATCH_ROWS):
            if start >= job.rows_done and not _import_batch(job.pk, start, batch, refs=refs):
                return None  # the job was deleted or failed meanwhile
            start += len(batch)
    except ImportFileInvalid as error:  # only if the stored file changed: never expected
        return _fail(job, CaseImport.Status.IMPORTING, error.message)
    return _finish(job.pk)


def _import_batch(job_id: int, start: int, batch: list, *, refs: ReferenceCache) -> bool:
    """One transaction: the batch's rows and the job's progress, under the job's row lock (a
    second delivery waits here, then finds the batch done and moves on). False: stop."""
    with transaction.atomic():
        # Without the file: reading megabytes of it again for every batch was most of the time.
        job = CaseImport.objects.select_for_update().defer("content").filter(pk=job_id).first()
        if job is None or job.status != CaseImport.Status.IMPORTING:
            return False
        if job.rows_done != start:
            return True  # another delivery imported this batch
        skipped = job.preview.setdefault("skipped", [])
        for number, data in batch:
            try:
                _unnamed_cells_refused(data)
                case_request_create(
                    data=_values(data),
                    created_by=job.created_by,
                    source=CaseRequest.Source.IMPORT,
                    refs=refs,
                    request_run=False,  # one request for the whole file, in _finish
                )
            except CaseRequestInvalid as error:
                job.rows_skipped += 1
                if not job.skip_invalid_rows and len(skipped) < PREVIEW_ROWS:
                    # Valid at the check, refused now: a duplicate recorded during the import.
                    report = _Report()
                    report.refused(number, data, error)
                    skipped.extend(report.errors)
            else:
                job.rows_imported += 1
        job.rows_done = start + len(batch)
        job.save(
            update_fields=[
                "rows_done", "rows_imported", "rows_skipped", "preview", "updated_at",
            ]
        )  # fmt: skip
    return True


def _finish(job_id: int) -> CaseImport | None:
    with transaction.atomic():
        job = CaseImport.objects.select_for_update().defer("content").filter(pk=job_id).first()
        if job is None or job.status != CaseImport.Status.IMPORTING:
            return job  # another delivery finished it
        job.status = CaseImport.Status.DONE
        job.content = b""  # the identifiers are in the cases now; the upload goes
        job.save(update_fields=["status", "content", "updated_at"])
        totals = {"new": job.rows_imported, "skipped": job.rows_skipped}
        event_record(verb="case_request.imported", actor=job.created_by, target=job, data=totals)
        if job.rows_imported:
            matching_run_request_on_commit(trigger="import")  # nothing if this rolls back
    logger.info("Case import %s: %s.", job.pk, totals)
    return job


def _update(job: CaseImport, current: str, **values) -> int:
    """Conditional update of a job still in ``current``; bumps the heartbeat the sweeper reads."""
    return CaseImport.objects.filter(pk=job.pk, status=current).update(
        updated_at=timezone.now(), **values
    )


def _fail(job: CaseImport, current: str, message: str) -> CaseImport:
    with transaction.atomic():
        if _update(job, current, status=CaseImport.Status.FAILED, failure=message, content=b""):
            event_record(verb="case_import.failed", actor=job.created_by, target=job)
    logger.info("Case import %s failed.", job.pk)  # the message may name rows, never a value
    return job


def case_imports_expire(*, now=None) -> int:
    """Delete unconfirmed uploads (and their encrypted files) older than the preview's time."""
    now = now or timezone.now()
    cutoff = now - _ttl()
    waiting = (CaseImport.Status.CHECKING, CaseImport.Status.CHECKED)
    # Finished jobs stay (counts and the masked preview): their file went when they finished.
    deleted, _ = CaseImport.objects.filter(status__in=waiting, updated_at__lt=cutoff).delete()
    if deleted:
        event_record(verb="case_import.expired", data={"deleted": deleted})
    return deleted


# The template -------------------------------------------------------------------------------------


def import_template(*, today: date | None = None) -> tablib.Dataset:
    """The downloadable template: every column, and one example row that passes validation."""
    today = today or timezone.localdate()
    example = {
        "respondent_name": "Example Person (replace)",
        "a_number": "A-012-345-678",
        "contact_route": "Through the clinic's front desk",
        "country_of_nationality": "GT",
        "language": "mam",
        "other_languages": "spa",
        "relay_interpreter_ok": "yes",
        "relay_language": "spa",
        "court": "new-york-city",
        "case_type": "asylum",
        "detained": "no",
        "detention_facility": "",
        "remote_ok": "no",
        "next_hearing_date": (today + timedelta(days=45)).isoformat(),
        "next_hearing_type": "master",
        "filing_deadline": (today + timedelta(days=200)).isoformat(),
        "summary": "Asylum claim; needs help preparing the I-589.",
    }
    return tablib.Dataset([example[name] for name in COLUMNS], headers=list(COLUMNS))
