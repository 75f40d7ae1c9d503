"""The one validator of case request input, shared by every intake path (SEC-18).

The admin form, the partner form and the bulk import all hand their data to the services, which
call ``case_request_clean``. Values may arrive typed (a form's cleaned data: model instances,
dates, booleans) or raw (an import row: codes and strings); both give the same result.

Error messages never contain the submitted value: it may be a name or an A-number.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pycountry
from django.db import models
from django.utils import timezone

from cases.identifiers import InvalidANumber, normalize_a_number
from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from core.errors import DomainError

# Field name → longest accepted text.
TEXT_LIMITS = {
    "respondent_name": 200,
    "contact_route": 500,
    "detention_facility": 200,
    "summary": 2000,
}
BOOLEAN_FIELDS = ("relay_interpreter_ok", "detained", "remote_ok")
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"0", "false", "no", "n", ""}
# Sane ranges (SEC-18). A hearing date up to a year old is a stale record, not a typo; further
# back, or more than ten years ahead, it is a typo (a wrong century, swapped day and month).
# On an update only a changed date is judged (case_request_clean's ``stored``): a date that was
# current when entered ages out of the window, and the case must stay editable.
HEARING_PAST_DAYS = 366
DEADLINE_PAST_DAYS = 5 * 366
FUTURE_DAYS = 10 * 366
PAST_DAYS = {"next_hearing_date": HEARING_PAST_DAYS, "filing_deadline": DEADLINE_PAST_DAYS}
# Judged only when new, like the dates: a detained person's facility was not asked for before.
AGING_FIELDS = (*PAST_DAYS, "detained", "detention_facility")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


class CaseRequestInvalid(DomainError):
    """Input refused; ``errors`` maps field names ("__all__" for the whole) to safe messages."""

    code = "case_request_invalid"

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The case request has errors.")
        self.errors = errors


@dataclass
class ReferenceCache:
    """Looks up languages, courts and case types by code, once each (an import repeats them)."""

    _memo: dict[tuple[type[models.Model], str], Any] = field(default_factory=dict)

    def get(self, model: type[models.Model], value: Any, *, key: str) -> Any:
        if isinstance(value, model):
            return value
        code = str(value).strip()
        if "\x00" in code or len(code) > 64:  # never a code; PostgreSQL refuses NUL in a query
            return None
        if (model, code) not in self._memo:
            self._memo[(model, code)] = model._default_manager.filter(**{key: code}).first()
        return self._memo[(model, code)]


def case_request_clean(
    data: dict[str, Any],
    *,
    refs: ReferenceCache | None = None,
    skip: Iterable[str] = (),
    stored: CaseRequest | None = None,
) -> dict[str, Any]:
    """Return typed, validated values, or raise CaseRequestInvalid with every problem found.

    Fields named in ``skip`` are left out of the result (an update that keeps the stored
    identifiers does not decrypt and re-validate them). On an update, ``stored`` is the row as
    it is: the rules that age (the dates' window) or came after the row (a facility for the
    detained) judge only the values the update changes, so an old case stays editable.
    """
    refs = refs or ReferenceCache()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, clean in _CLEANERS.items():
        if name in skip:
            continue
        try:
            cleaned[name] = clean(data.get(name), refs)
        except ValueError as error:
            errors.setdefault(name, []).append(str(error))
    changed = _changed(cleaned, stored)
    _check_dates(cleaned, errors, changed)
    _check_together(cleaned, errors, changed)
    if errors:
        raise CaseRequestInvalid(errors)
    return cleaned


def _text(name: str, *, required: bool = False):
    def clean(value, refs) -> str:
        text = "" if value is None else str(value).strip()
        if "\x00" in text:
            raise ValueError("This text contains a NUL character.")
        if required and not text:
            raise ValueError("This field is required.")
        if len(text) > TEXT_LIMITS[name]:
            raise ValueError(f"Use at most {TEXT_LIMITS[name]} characters.")
        return text

    return clean


def _a_number(value, refs) -> str:
    if value is None or str(value).strip() == "":
        return ""
    try:
        return normalize_a_number(str(value))
    except InvalidANumber as error:
        raise ValueError(error.message) from None


def _boolean(value, refs) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("Enter yes or no.")


def _reference(model: type, key: str, label: str, *, required: bool):
    def clean(value, refs):
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ValueError("This field is required.")
            return None
        found = refs.get(model, value, key=key)
        if found is None:
            raise ValueError(f"Unknown {label} code.")
        return found

    return clean


def _languages(value, refs) -> list[Language]:
    if value is None or value == "":
        return []
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value)
    found = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        language = refs.get(Language, item, key="code")
        if language is None:
            raise ValueError("Unknown language code (use ISO 639-3 codes such as spa, mam).")
        found.append(language)
    return list(dict.fromkeys(found))


def _country(value, refs) -> str:
    text = "" if value is None else str(value).strip().upper()
    if text and pycountry.countries.get(alpha_2=text) is None:
        raise ValueError("Use a two-letter ISO 3166 country code, such as GT or HN.")
    return text


def _hearing_type(value, refs) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text and text not in CaseRequest.HearingType.values:
        choices = ", ".join(CaseRequest.HearingType.values)
        raise ValueError(f"Use one of: {choices}.")
    return text


def _parse_date(value, refs=None) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):  # spreadsheets give datetimes
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(str(value).strip(), fmt).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
    raise ValueError("Enter a date as YYYY-MM-DD.")


_CLEANERS = {
    "respondent_name": _text("respondent_name", required=True),
    "a_number": _a_number,
    "contact_route": _text("contact_route"),
    "country_of_nationality": _country,
    "language": _reference(Language, "code", "language", required=True),
    "other_languages": _languages,
    "relay_interpreter_ok": _boolean,
    "relay_language": _reference(Language, "code", "language", required=False),
    "court": _reference(ImmigrationCourt, "code", "court", required=True),
    "case_type": _reference(CaseType, "code", "case type", required=True),
    "detained": _boolean,
    "detention_facility": _text("detention_facility"),
    "remote_ok": _boolean,
    "next_hearing_date": _parse_date,
    "next_hearing_type": _hearing_type,
    "filing_deadline": _parse_date,
    "summary": _text("summary"),
}
FIELDS: tuple[str, ...] = tuple(_CLEANERS)


def _changed(cleaned: dict[str, Any], stored: CaseRequest | None) -> set[str]:
    """Which of the fields judged only when new (AGING_FIELDS) are: all of them on a create."""
    names = {name for name in AGING_FIELDS if name in cleaned}
    if stored is None:
        return names
    return {name for name in names if getattr(stored, name) != cleaned[name]}


def _check_dates(cleaned: dict[str, Any], errors: dict[str, list[str]], changed: set[str]) -> None:
    today = timezone.localdate()
    for name, past_days in PAST_DAYS.items():
        when = cleaned.get(name)
        if when is None or name not in changed:
            continue
        earliest, latest = today - timedelta(days=past_days), today + timedelta(days=FUTURE_DAYS)
        if not earliest <= when <= latest:
            errors.setdefault(name, []).append(
                f"This date is outside the accepted range ({_day(earliest)} to {_day(latest)}): "
                "check the year."
            )


def _day(when: date) -> str:
    return f"{when.day} {when:%b %Y}"


def _check_together(
    cleaned: dict[str, Any], errors: dict[str, list[str]], changed: set[str]
) -> None:
    relay_missing = cleaned.get("relay_interpreter_ok") and not cleaned.get("relay_language")
    if relay_missing and "relay_language" not in errors:
        errors.setdefault("relay_language", []).append(
            "Name the language a relay interpreter would bridge to."
        )
    case_type = cleaned.get("case_type")
    if case_type is not None and case_type.detained_only and cleaned.get("detained") is False:
        errors.setdefault("detained", []).append(f"{case_type.name} cases are for detained people.")
    if cleaned.get("detention_facility") and cleaned.get("detained") is False:
        errors.setdefault("detention_facility", []).append(
            "A detention facility is only for detained people."
        )
    facility_missing = cleaned.get("detained") and not cleaned.get("detention_facility")
    facility_error = "detention_facility" in errors
    if facility_missing and {"detained", "detention_facility"} & changed and not facility_error:
        errors.setdefault("detention_facility", []).append(
            "Name the facility where the person is detained (ICE's detainee locator shows it)."
        )


def other_language_codes(languages: Iterable[Language]) -> list[str]:
    return sorted(language.code for language in languages)
