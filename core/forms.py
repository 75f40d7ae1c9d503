"""Form parts shared by the apps.

A form that creates a row (a partner's case request, an attorney's hours) carries a one-time
submission token: a random UUID issued with the page, in a hidden field, stored on the row it
creates (a nullable unique column). The same POST sent again (a double click, the browser
resending it, a proxy or client retrying) carries the same token, so the service finds the row
already created and writes nothing. The token is not a secret and names nothing.

Not caught by the token: a form page fetched again. The pages are no-store (SEC-3), so the
back button fetches the form again, with a new token; Chromium restores what was typed, not the
token (tried with a script-set and a text input: neither came back), so a second send after
Back is a second submission. Each service decides what that means: the same hours for the same
day, just logged on the case, are asked about (volunteers.services.HOURS_REPEAT_WINDOW); a
partner's request with an A-number its organization already recorded is refused as a duplicate
(cases.services); one without an A-number for the same person, court, case type and language,
just recorded by the organization, is asked about (cases.services.REQUEST_REPEAT_WINDOW; the
coordinators' add form, which has a token too, asks the same about the coordinator's own).
"""

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError

SUBMISSION_FIELD = "submission_token"


SUBMISSION_INCOMPLETE = (
    "This form is incomplete or out of date, so nothing was saved. Check the values below "
    "and send it again."
)


class SubmissionTokenField(forms.Field):
    """A hidden UUID. Never a field error of its own (hidden fields show no errors): a missing
    or malformed token cleans to None and the form says so above its fields."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value: object) -> uuid.UUID | None:
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(str(value or "")[:64])
        except ValueError:
            return None

    def bound_data(self, data: object, initial: object) -> object:
        """The page shown again keeps a good token (nothing was written with it) and replaces
        a bad one with the fresh one, so that the corrected form goes through."""
        return data if self.to_python(data) is not None else initial


class OneSubmissionMixin:
    """What a form with a SubmissionTokenField does with it, whenever the field is there: a
    fresh token with each page, and a missing or malformed one refused above the fields. For a
    model form (the coordinators' case form, whose change form drops the field)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if SUBMISSION_FIELD in self.fields:
            self.fields[SUBMISSION_FIELD].initial = uuid.uuid4()

    def clean(self):
        cleaned = super().clean()
        if SUBMISSION_FIELD in self.fields and cleaned.get(SUBMISSION_FIELD) is None:
            self.add_error(None, SUBMISSION_INCOMPLETE)
        return cleaned


class OneSubmissionForm(OneSubmissionMixin, forms.Form):
    """A form whose valid submission creates a row at most once (see the module docstring).
    A subclass that does not create (an edit page) deletes the field in its __init__."""

    submission_token = SubmissionTokenField()


# A number as people write it: digits with spaces, dashes, dots or brackets, a leading + and an
# optional extension ("x12", "ext. 12").
_PHONE = re.compile(r"(\+?[\d\s().-]+?)\s*(?:(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
PHONE_INVALID = "Enter a phone number of 7 to 15 digits, for example 212-555-0100."


def phone_validator(value: str) -> None:
    """Refuse what is not a phone number (a typo'd email, a sentence), naming the format."""
    match = _PHONE.fullmatch(value.strip())
    digits = sum(char.isdigit() for char in match.group(1)) if match else 0
    if not 7 <= digits <= 15:
        raise ValidationError(PHONE_INVALID, code="invalid_phone")


class PhoneField(forms.CharField):
    """An optional phone number (the profile's, an interpreter's, a pledge contact's)."""

    default_validators = [phone_validator]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)
