"""Bulk import of case requests (CSV/XLSX) with django-import-export, through the intake service.

The library supplies the upload, the dry-run preview and the confirmation step; every row goes
through ``case_request_create`` (one validator, duplicate detection, priority, event), never a
plain model save. SEC-21: a file with bad rows imports nothing unless the user ticks "import only
the valid rows" on the preview; a confirmation without that tick rolls everything back.
"""

import logging
from datetime import date, timedelta

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from import_export import resources
from import_export.results import RowResult
from import_export.tmp_storages import TempFolderStorage

from cases.crypto import decrypt_bytes, encrypt_bytes
from cases.models import CaseRequest
from cases.services import (
    IDENTIFIER_FIELDS,
    case_request_check,
    case_request_create,
    case_request_references_by_hash,
    matching_run_request_on_commit,
)
from cases.validation import FIELDS, CaseRequestInvalid, ReferenceCache
from core.services import event_record

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = FIELDS
MASK = "•••"
# Columns of the preview and of the error table, by row key (the library looks the invalid rows'
# values up by these names). Identifiers appear masked.
PREVIEW_COLUMNS = [
    "respondent_name", "a_number", "language", "court", "case_type", "detained",
    "next_hearing_date", "next_hearing_type",
]  # fmt: skip


class EncryptedTempFolderStorage(TempFolderStorage):
    """The upload waits between preview and confirmation; it holds names and A-numbers, so it is
    written encrypted with the field key (a plain temp file would be plaintext at rest)."""

    def save(self, data):
        raw = data.encode(self.encoding or "utf-8") if isinstance(data, str) else data
        with self._open(mode="w") as file:
            file.write(encrypt_bytes(raw))

    def read(self):
        with self._open(mode="r") as file:
            raw = decrypt_bytes(file.read())
        return raw if "b" in self.read_mode else raw.decode(self.encoding or "utf-8")

    def _open(self, mode="r"):
        # Always binary: the ciphertext is bytes whatever the upload's encoding was. A new file
        # comes from NamedTemporaryFile (private to this user, mode 0600).
        if self.name:
            return open(self.get_full_path(), "wb" if "w" in mode else "rb")
        return super()._open()


class CaseRequestResource(resources.ModelResource):
    """One row, one ``case_request_create`` call. Identifiers are masked in the preview."""

    class Meta:
        model = CaseRequest
        fields = COLUMNS
        import_id_fields = ()
        use_transactions = True
        skip_diff = True
        # Not for bulk_create (rows go through the service one by one, which never fills the
        # library's bulk lists): this switches off the library's per-row savepoint. The service
        # already wraps each row in its own, so the library's was a second one per row, about a
        # quarter of an import's round trips.
        use_bulk = True

    def __init__(self, *, skip_invalid_rows: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.skip_invalid_rows = skip_invalid_rows
        self.refs = ReferenceCache()
        self.dataset = None
        self.taken: dict[str, str] | None = None  # the preview's duplicate check, see below

    def before_import(self, dataset, **kwargs):
        self.dataset = dataset

    def get_diff_headers(self):
        return PREVIEW_COLUMNS

    def import_row(self, row, instance_loader, **kwargs):
        data = {name: row.get(name) for name in COLUMNS}
        _mask_identifiers(row)  # the error table shows the row back; identifiers stay hidden
        result = self.get_row_result_class()()
        try:
            if kwargs.get("dry_run"):
                # The preview checks without writing: the same validation, and one query for
                # every A-number of the file instead of an insert per row (then rolled back).
                self._check(data, user=kwargs.get("user"))
                case = None
            else:
                case = case_request_create(
                    data=data,
                    created_by=kwargs.get("user"),
                    source=CaseRequest.Source.IMPORT,
                    refs=self.refs,
                    request_run=False,  # one request for the whole file, in after_import
                )
        except CaseRequestInvalid as error:
            return _refused(result, error, skip=self.skip_invalid_rows)
        result.import_type = RowResult.IMPORT_TYPE_NEW
        result.add_instance_info(case)
        result.diff = [_shown(name, data.get(name)) for name in PREVIEW_COLUMNS]
        return result

    def _check(self, data, *, user) -> None:
        if self.taken is None:
            column = self.dataset["a_number"] if "a_number" in self.dataset.headers else []
            self.taken = case_request_references_by_hash(raw_a_numbers=column)
        case_request_check(data=data, actor=user, refs=self.refs, taken=self.taken)

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run"):
            return
        totals = {kind: count for kind, count in result.totals.items() if count}
        event_record(verb="case_request.imported", actor=kwargs.get("user"), data=totals)
        if totals.get(RowResult.IMPORT_TYPE_NEW):
            # Inside the import's transaction: a rolled-back import asks for nothing.
            matching_run_request_on_commit(trigger="import")
        logger.info("Case request import: %s.", totals)


def _mask_identifiers(row) -> None:
    for name in IDENTIFIER_FIELDS:
        if row.get(name) not in (None, ""):
            row[name] = MASK


def _refused(result: RowResult, error: CaseRequestInvalid, *, skip: bool) -> RowResult:
    if skip:
        result.import_type = RowResult.IMPORT_TYPE_SKIP
        return result
    result.import_type = RowResult.IMPORT_TYPE_INVALID
    errors = {
        (name if name in COLUMNS else NON_FIELD_ERRORS): messages
        for name, messages in error.errors.items()
    }
    result.validation_error = ValidationError(errors)
    return result


def _shown(name: str, value) -> str:
    if value in (None, ""):
        return ""
    return MASK if name in IDENTIFIER_FIELDS else str(value)


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
