"""Forms for the admin and the partner intake page. They collect input; the services validate it
(cases/validation.py) and their errors are put back on the form's fields."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from cases.crypto import is_unreadable
from cases.identifiers import (
    InvalidANumber,
    format_a_number,
    is_canonical_a_number,
    normalize_a_number,
)
from cases.importing import (
    ImportFileInvalid,
    case_import_token_read,
    import_file_check_archive,
    import_file_format,
)
from cases.models import (
    CaseImport,
    CaseRequest,
    CaseType,
    ImmigrationCourt,
    Language,
    PartnerMembership,
    country_choices,
)
from cases.services import (
    IDENTIFIER_FIELDS,
    RequestJustRecorded,
    case_request_check,
    case_request_repeat_check,
)
from cases.validation import CaseRequestInvalid
from core.forms import SUBMISSION_FIELD, OneSubmissionForm, OneSubmissionMixin, SubmissionTokenField

UNREADABLE_HELP = (
    "Unreadable: the stored value failed its integrity check and cannot be shown. "
    "Enter it again to replace it, or leave it empty to keep the unreadable value."
)
AGAIN = "again"  # the box that says a request just like a recorded one is another person's


def again_field() -> forms.BooleanField:
    """Shown only when the same person's request was just recorded (RequestJustRecorded): a
    hidden "False" until then, a checkbox once asked, ticked kept when the page comes back."""
    return forms.BooleanField(
        label="This is a different person", required=False, widget=forms.HiddenInput
    )


def a_number_format(value: str) -> None:
    """The A-number's format, checked with the form's other fields: the service checks run
    only on a form without field errors, so a mistyped A-number would otherwise be reported
    only after the rest was put right, in a second round."""
    try:
        normalize_a_number(value)
    except InvalidANumber as error:
        raise ValidationError(error.message, code=error.code) from None


def add_service_errors(form: forms.BaseForm, error: CaseRequestInvalid) -> None:
    """Put a service's field errors on the form; unknown fields become non-field errors. A
    request just recorded (the form sent again after Back) shows the box that says this is a
    different person."""
    if error.code == RequestJustRecorded.code and AGAIN in form.fields:
        form.fields[AGAIN].widget = forms.CheckboxInput()
    for name, messages in error.errors.items():
        field = name if name in form.fields else None
        for message in messages:
            form.add_error(field, message)


def identifier_initial(form: forms.Form, instance: CaseRequest) -> None:
    """Show the stored identifiers (decrypted); an unreadable one is shown empty, with a note."""
    for name in IDENTIFIER_FIELDS:
        if name not in form.fields:
            continue
        value = getattr(instance, name)
        if is_unreadable(value):
            form.fields[name].help_text = UNREADABLE_HELP
            form.fields[name].required = False
            form.initial[name] = ""
        elif name == "a_number" and is_canonical_a_number(value):
            form.initial[name] = format_a_number(value)
        else:
            form.initial[name] = value


def identifier_changes(form: forms.BaseForm) -> set[str]:
    """Identifier fields to write: the changed ones, never an empty stand-in for unreadable."""
    return {
        name
        for name in IDENTIFIER_FIELDS
        if name in form.changed_data
        and not (form.fields[name].help_text == UNREADABLE_HELP and not form.cleaned_data[name])
    }


# The case fields coordinators edit, in the order they see them (services' vocabulary).
CASE_FIELDS = (
    "country_of_nationality", "language", "other_languages", "relay_interpreter_ok",
    "relay_language", "court", "case_type", "detained", "detention_facility", "remote_ok",
    "next_hearing_date", "next_hearing_type", "filing_deadline", "summary",
)  # fmt: skip


class CaseRequestAdminForm(OneSubmissionMixin, forms.ModelForm):
    """The coordinators' form. Identifier fields are removed for users who may not see them.
    The add form carries a one-time submission token, as partner intake does (core.forms):
    CaseRequestAdmin takes the same token sent again to the request it recorded."""

    respondent_name = forms.CharField(max_length=200)
    a_number = forms.CharField(
        label="A-number",
        max_length=64,
        required=False,
        validators=[a_number_format],
        help_text="8 or 9 digits, e.g. A-012-345-678",
    )
    contact_route = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    again = again_field()  # the add form's only (CaseRequestAdmin.get_form drops it on a change)
    submission_token = SubmissionTokenField()  # the add form's only, as ``again``

    admin_user = None  # set by the ModelAdmin: whose permissions shape the error messages

    class Meta:
        model = CaseRequest
        fields = [*IDENTIFIER_FIELDS, *CASE_FIELDS, "organization"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            identifier_initial(self, self.instance)

    def clean(self):
        cleaned = super().clean()  # the token's check first (OneSubmissionMixin)
        if not self.errors:
            try:
                data = self.service_data()
                case_request_check(data=data, actor=self.admin_user, case_request=self.instance)
                if self.instance.pk is None and not self.cleaned_data.get(AGAIN):
                    case_request_repeat_check(data=data, actor=self.admin_user)
            except CaseRequestInvalid as error:
                add_service_errors(self, error)
        return cleaned

    def service_data(self) -> dict:
        """The cleaned data for the services; on a change, identifiers only when edited."""
        data = {name: self.cleaned_data[name] for name in CASE_FIELDS if name in self.cleaned_data}
        change = self.instance.pk is not None
        identifiers = identifier_changes(self) if change else set(IDENTIFIER_FIELDS)
        data.update({name: self.cleaned_data[name] for name in identifiers if name in self.fields})
        return data


class PartnerCaseRequestForm(OneSubmissionForm):
    """The partner intake page: common languages in the list, any other by its ISO 639-3 code.
    A new request carries a one-time submission token (core.forms): sent twice, it is recorded
    once. An edit has none: saving the same values twice changes nothing."""

    respondent_name = forms.CharField(label="Full name", max_length=200)
    a_number = forms.CharField(
        label="A-number",
        max_length=64,
        required=False,
        validators=[a_number_format],
        help_text="8 or 9 digits, e.g. A-012-345-678",
    )
    country_of_nationality = forms.ChoiceField(
        choices=[("", "—"), *country_choices()], required=False
    )
    language = forms.ModelChoiceField(
        queryset=Language.objects.filter(common_rank__isnull=False),
        required=False,
        help_text="The language the person understands best.",
    )
    language_code = forms.CharField(
        label="…or another language (ISO 639-3 code)", max_length=3, required=False
    )
    other_languages = forms.CharField(
        required=False, max_length=200, help_text="ISO 639-3 codes, comma-separated (e.g. spa)"
    )
    relay_interpreter_ok = forms.BooleanField(
        label="A relay interpreter is acceptable", required=False
    )
    relay_language = forms.ModelChoiceField(
        queryset=Language.objects.filter(common_rank__isnull=False), required=False
    )
    court = forms.ModelChoiceField(queryset=ImmigrationCourt.objects.filter(active=True))
    case_type = forms.ModelChoiceField(queryset=CaseType.objects.all())
    detained = forms.BooleanField(required=False)
    detention_facility = forms.CharField(max_length=200, required=False)
    remote_ok = forms.BooleanField(
        label="Can be handled remotely (video hearing, appeal, documents)", required=False
    )
    next_hearing_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_hearing_type = forms.ChoiceField(
        choices=[("", "—"), *CaseRequest.HearingType.choices], required=False
    )
    filing_deadline = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="e.g. the one-year asylum deadline or a BIA brief due date",
    )
    summary = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to volunteers before they accept: no names, numbers or addresses.",
    )
    contact_route = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How a volunteer reaches the person (through your office, a phone number).",
    )
    again = again_field()

    def __init__(self, *args, instance: CaseRequest | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        if instance is not None:
            del self.fields[SUBMISSION_FIELD], self.fields[AGAIN]
            self._initial_from(instance)
        self.helper = FormHelper()
        self.helper.render_hidden_fields = True  # the submission token, outside the layout
        self.helper.layout = Layout(
            Fieldset("Person", "respondent_name", "a_number", "country_of_nationality", AGAIN),
            Fieldset(
                "Languages",
                "language",
                "language_code",
                "other_languages",
                "relay_interpreter_ok",
                "relay_language",
            ),
            Fieldset(
                "Case",
                "court",
                "case_type",
                "detained",
                "detention_facility",
                "remote_ok",
                "next_hearing_date",
                "next_hearing_type",
                "filing_deadline",
                "summary",
            ),
            Fieldset("Contact", "contact_route"),
        )
        self.helper.add_input(Submit("save", "Save case request"))

    def _initial_from(self, case: CaseRequest) -> None:
        for name in self.fields:
            if name not in IDENTIFIER_FIELDS and hasattr(case, name):
                self.initial[name] = getattr(case, name)
        if case.language.common_rank is None:
            self.initial["language"], self.initial["language_code"] = None, case.language_id
        self.initial["other_languages"] = ", ".join(
            sorted(case.other_languages.values_list("code", flat=True))
        )
        identifier_initial(self, case)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("language") and not cleaned.get("language_code"):
            self.add_error("language", "Choose a language or enter its code.")
        return cleaned

    def service_data(self) -> dict:
        """The cleaned data in the services' vocabulary; unchanged identifiers left out on edit."""
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in IDENTIFIER_FIELDS and k not in (SUBMISSION_FIELD, AGAIN)
        }
        data["language"] = data.pop("language_code") or data["language"]
        keep = identifier_changes(self) if self.instance else set(IDENTIFIER_FIELDS)
        data.update({name: self.cleaned_data[name] for name in keep})
        return data


class CaseImportForm(forms.Form):
    """The upload. Refuses a file too large, of another kind, or an XLSX that would expand too far
    (a zip bomb) before anything parses it; the rows are checked in the background."""

    import_file = forms.FileField(
        label="File to import", help_text="The template, filled in, as CSV (UTF-8) or XLSX."
    )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is larger than {limit / 2**20:.0f} MB: split it into several files."
            )
        try:
            if import_file_format(upload.name) == CaseImport.Format.XLSX:
                import_file_check_archive(upload)
        except ImportFileInvalid as error:
            raise forms.ValidationError(error.message) from None
        upload.seek(0)
        return upload


class CaseImportConfirmForm(forms.Form):
    """The confirmation of a checked import. ``import_file_name`` is the signed id of the job (no
    path, no name: only what the app generated is accepted). With rows in error the user must tick
    the box to import the valid rows only (SEC-21); the service checks it against the job."""

    import_file_name = forms.CharField(widget=forms.HiddenInput, max_length=200)
    confirm_skip_invalid_rows = forms.BooleanField(
        required=False,
        label="Import only the valid rows; the rows with errors listed below are skipped.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_import_file_name(self):
        try:
            return case_import_token_read(self.cleaned_data["import_file_name"], user=self.user)
        except ImportFileInvalid as error:
            raise forms.ValidationError(error.message) from None


class PartnerMembershipAdminForm(forms.ModelForm):
    email = forms.EmailField(help_text="The partner staff member's account email.")

    class Meta:
        model = PartnerMembership
        fields = ["organization"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # a membership moves between organizations, not between people
            self.initial["email"] = self.instance.user.email
            self.fields["email"].disabled = True

    def clean_email(self):
        """The user with this email; cleaned_data["email"] is a user after this."""
        users = get_user_model().objects.filter(email__iexact=self.cleaned_data["email"])
        user = users.first()
        if user is None:
            raise forms.ValidationError("No account has this email; ask them to sign up first.")
        if user.is_staff:
            raise forms.ValidationError("Staff accounts cannot be partner intake staff.")
        return user
