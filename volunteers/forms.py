"""Profile step forms. They validate input; the services in services.py do the writing."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from cases.models import CaseRequest, CaseType, Language
from core.forms import OneSubmissionForm, PhoneField
from matching.board import BoardFilters
from matching.models import Match, StatusRequest
from volunteers.models import (
    US_JURISDICTIONS,
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    Organization,
    WorkMode,
    zip_validator,
)
from volunteers.services import AttorneyError, zip_locate
from volunteers.timezones import US_TIME_ZONES


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # the page's template owns <form>, the CSRF token and the buttons
    helper.disable_csrf = True
    return helper


class StepForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def add_domain_error(self, error: AttorneyError) -> None:
        self.add_error(None, error.message)


class AboutForm(StepForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    phone = PhoneField(help_text="Coordinators call only about your cases.")
    home_zip = forms.CharField(
        label="Home or office ZIP code",
        max_length=5,
        validators=[zip_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    travel_radius_miles = forms.IntegerField(
        label="How far will you travel to court (miles)?", min_value=0, max_value=3000, initial=50
    )
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=[("", "From my ZIP code"), *US_TIME_ZONES],
        required=False,
        help_text="Offer deadlines and dates are shown in it.",
    )

    def clean_home_zip(self):
        home_zip = self.cleaned_data["home_zip"]
        try:
            zip_locate(home_zip)  # unknown ZIP: a form error here, never a 500 later
        except AttorneyError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return home_zip


class OrganizationForm(StepForm):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        empty_label="— none / solo practice —",
        help_text="Pick your firm or organization, or name a new one below.",
    )
    new_organization = forms.CharField(
        label="Not listed? Its name",
        max_length=200,
        required=False,
        help_text="A coordinator confirms new organizations.",
    )
    eoir_id = forms.CharField(
        label="EOIR ID (optional)",
        max_length=16,
        required=False,
        help_text="Your EOIR eRegistry ID, if you already have one.",
    )

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations

    def clean_eoir_id(self):
        value = self.cleaned_data["eoir_id"].strip().upper()
        if value and not value.replace("-", "").isalnum():
            raise forms.ValidationError("Use letters and digits only.")
        return value


class BarAdmissionForm(forms.Form):
    jurisdiction = forms.ChoiceField(choices=[("", "—"), *US_JURISDICTIONS])
    bar_number = forms.CharField(max_length=32)
    # An empty first choice keeps an untouched extra row unchanged, so it is ignored.
    status = forms.ChoiceField(choices=[("", "—"), *BarAdmission.Status.choices])


class _RowsFormSet(forms.BaseFormSet):
    """A formset whose rows are all optional; empty extra rows are ignored."""

    unique_field = ""
    unique_message = ""

    def rows(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        if any(self.errors):
            return
        values = [row[self.unique_field] for row in self.rows()]
        if len(values) != len(set(values)):
            raise forms.ValidationError(self.unique_message, code="duplicate")


class BaseBarAdmissionFormSet(_RowsFormSet):
    unique_field = "jurisdiction"
    unique_message = "List each jurisdiction once."

    def clean(self):
        super().clean()
        if any(self.errors) or self.non_form_errors():
            return
        if not any(row["status"] == BarAdmission.Status.ACTIVE for row in self.rows()):
            raise forms.ValidationError(
                "At least one bar admission must be active and in good standing.",
                code="no_active_admission",
            )


BarAdmissionFormSet = forms.formset_factory(
    BarAdmissionForm, formset=BaseBarAdmissionFormSet, extra=2, max_num=20, absolute_max=20,
    validate_max=True, can_delete=True,
)  # fmt: skip


class LanguageForm(forms.Form):
    language = forms.ModelChoiceField(
        queryset=Language.objects.all(),
        empty_label="— choose —",
        widget=forms.Select(attrs={"data-language-search": "1"}),
        help_text="Common languages are listed; search for any other.",
    )
    proficiency = forms.TypedChoiceField(
        choices=[("", "—"), *reversed(AttorneyLanguage.Proficiency.choices)], coerce=int
    )

    def __init__(self, *args, common=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The select lists the common languages and the row's own; validation accepts any ISO
        # 639-3 code, which the search box (static/js/language-search.js) adds as an option.
        chosen = self.data.get(self.add_prefix("language")) or (self.initial or {}).get("language")
        choices = [("", "— choose —")]
        choices += common if common is not None else common_language_choices()
        if chosen and chosen not in {code for code, _ in choices}:
            choices += [(lang.code, lang.name) for lang in Language.objects.filter(code=chosen)]
        self.fields["language"].widget.choices = choices


def common_language_choices() -> list[tuple[str, str]]:
    return list(Language.objects.filter(common_rank__isnull=False).values_list("code", "name"))


class BaseLanguageFormSet(_RowsFormSet):
    unique_field = "language"
    unique_message = "List each language once."

    def clean(self):
        super().clean()
        if not any(self.errors) and not self.non_form_errors() and not self.rows():
            raise forms.ValidationError("Add at least one language.", code="no_language")


LanguageFormSet = forms.formset_factory(
    LanguageForm, formset=BaseLanguageFormSet, extra=2, max_num=20, absolute_max=20,
    validate_max=True, can_delete=True,
)  # fmt: skip


class PracticeForm(StepForm):
    """One checkbox and one experience count per case type."""

    years_experience = forms.IntegerField(
        label="Years in practice", min_value=0, max_value=70, initial=0
    )

    def __init__(self, *args, case_types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case_types = list(case_types if case_types is not None else CaseType.objects.all())
        for case_type in self.case_types:
            self.fields[f"take_{case_type.code}"] = forms.BooleanField(
                label=case_type.name, required=False, help_text=case_type.description
            )
            self.fields[f"handled_{case_type.code}"] = forms.IntegerField(
                label="Cases handled so far", min_value=0, max_value=5000, required=False
            )

    def areas(self) -> list[tuple[str, int]]:
        data = self.cleaned_data
        return [
            (ct.code, data.get(f"handled_{ct.code}") or 0)
            for ct in self.case_types
            if data.get(f"take_{ct.code}")
        ]

    def clean(self):
        cleaned = super().clean()
        for case_type in self.case_types:  # a count is kept only with its box: never dropped
            if cleaned.get(f"handled_{case_type.code}") and not cleaned.get(
                f"take_{case_type.code}"
            ):
                self.add_error(
                    f"handled_{case_type.code}",
                    f"Tick “{case_type.name}” to take these cases, or clear the count.",
                )
        if not self.errors and not self.areas():
            raise forms.ValidationError("Choose at least one kind of case.")
        return cleaned

    def rows(self):
        for case_type in self.case_types:
            yield self[f"take_{case_type.code}"], self[f"handled_{case_type.code}"]


class PreferencesForm(StepForm):
    """What work the attorney wants; matching honours every answer (matching.scoring)."""

    work_mode = forms.ChoiceField(
        label="Where do you want to work?",
        choices=WorkMode.choices,
        widget=forms.RadioSelect,
        initial=WorkMode.IN_PERSON,
        help_text="Remote: video hearings, appeals to the BIA and document help, anywhere in "
        "the country. In person: only courts within your travel radius.",
    )
    preferred_types = forms.ModelMultipleChoiceField(
        label="Case types you prefer (optional)",
        queryset=CaseType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="These rank higher when we choose cases for you.",
    )
    excluded_types = forms.ModelMultipleChoiceField(
        label="Case types never to offer you (optional)",
        queryset=CaseType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    detained_ok = forms.TypedChoiceField(
        label="Will you take cases of people in detention?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    monthly_offer_cap = forms.IntegerField(
        label="Most new offers per month (optional)",
        min_value=1,
        max_value=200,
        required=False,
        help_text="Leave empty for no limit beyond your capacity.",
    )
    digest_enabled = forms.BooleanField(
        label="Send me a weekly email of new cases that fit me",
        required=False,
        help_text="At most five cases, without names; switch it off here or from any email.",
    )

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("preferred_types") or ()) & set(cleaned.get("excluded_types") or ())
        if both:
            names = ", ".join(sorted(t.name for t in both))
            self.add_error("excluded_types", f"You also chose to prefer: {names}. Pick one.")
        return cleaned


class CapacityForm(StepForm):
    capacity = forms.IntegerField(
        label="How many cases can you carry at once?", min_value=1, max_value=50, initial=1
    )
    paused_until = forms.DateField(
        label="Pause offers until (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to receive offers now.",
    )

    def __init__(self, *args, today: date, **kwargs):
        """`today` is the attorney's own date (volunteers.timezones.attorney_localdate)."""
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["paused_until"].widget.attrs["min"] = today.isoformat()

    def clean_paused_until(self):
        value = self.cleaned_data["paused_until"]
        if value is not None and value < self.today:
            raise forms.ValidationError(
                "This date is in the past. Choose a later date, or leave it empty to receive "
                "offers now.",
                code="pause_in_past",
            )
        if value is not None and value > self.today + timedelta(days=366):
            raise forms.ValidationError("Pause for at most a year.")
        return value


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Match.DeclineReason.choices, widget=forms.RadioSelect, label="Why not this case?"
    )
    note = forms.CharField(
        label="Anything the coordinators should know?",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("reason") == Match.DeclineReason.OTHER
            and not cleaned.get("note", "").strip()
        ):
            self.add_error("note", "Tell us the reason.")
        return cleaned


class AccountDeleteForm(forms.Form):
    confirm = forms.CharField(
        label='Type "DELETE" to confirm',
        max_length=10,
        help_text="Your name, email, phone, bar numbers and location are erased for good.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != "DELETE":
            raise forms.ValidationError("Type the word DELETE in capitals.")
        return "DELETE"


def profile_initial(attorney: AttorneyProfile | None, user) -> dict[str, Any]:
    """Initial values for every step, from what is saved so far."""
    about = {"first_name": user.first_name, "last_name": user.last_name}
    if attorney is None:
        return {"about": about}
    about |= {
        "phone": attorney.phone,
        "home_zip": attorney.home_zip,
        "travel_radius_miles": attorney.travel_radius_miles,
        "time_zone": attorney.time_zone,
    }
    practice = {"years_experience": attorney.years_experience}
    for area in attorney.practice_area_links.all():
        practice[f"take_{area.case_type_id}"] = True
        practice[f"handled_{area.case_type_id}"] = area.cases_handled
    return {
        "about": about,
        "organization": {"organization": attorney.organization_id, "eoir_id": attorney.eoir_id},
        "bar": [
            {"jurisdiction": a.jurisdiction, "bar_number": a.bar_number, "status": a.status}
            for a in attorney.bar_admissions.all()
        ],
        "languages": [
            {"language": s.language_id, "proficiency": s.proficiency}
            for s in attorney.language_skills.all()
        ],
        "practice": practice,
        "capacity": {"capacity": attorney.capacity, "paused_until": attorney.paused_until},
        "preferences": {
            "work_mode": attorney.work_mode,
            "preferred_types": [t.pk for t in attorney.preferred_types.all()],
            "excluded_types": [t.pk for t in attorney.excluded_types.all()],
            "detained_ok": "yes" if attorney.detained_ok else "no",
            "monthly_offer_cap": attorney.monthly_offer_cap,
            "digest_enabled": attorney.digest_enabled,
        },
    }


class CaseHoursForm(OneSubmissionForm):
    """Hours on one day; the day and the day's total are checked by case_hours_log, which
    logs one submission once (its submission token, core.forms)."""

    hours = forms.DecimalField(min_value=Decimal("0.1"), max_value=24, decimal_places=1)
    worked_on = forms.DateField(label="Day worked", widget=forms.DateInput(attrs={"type": "date"}))
    # Shown only when the same hours were just logged (services.HOURS_REPEAT_WINDOW): a hidden
    # "False" until then, a checkbox once asked, ticked kept when the page comes back.
    again = forms.BooleanField(
        label="These are more hours", required=False, widget=forms.HiddenInput
    )
    # The field each of case_hours_log's refusals is about (by its code).
    _ERROR_FIELDS = {"before_acceptance": "worked_on", "future_date": "worked_on",
                     "day_full": "hours", "just_logged": "again"}  # fmt: skip

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("worked_on", today)
        self.fields["worked_on"].widget.attrs["max"] = today.isoformat()
        self.helper = _helper()

    def add_domain_error(self, error: AttorneyError) -> None:
        """case_hours_log's refusal, next to the field it is about; hours just logged (the
        form sent again after Back) show the box that says these are more hours."""
        if error.code == "just_logged":
            self.fields["again"].widget = forms.CheckboxInput()
        self.add_error(self._ERROR_FIELDS.get(error.code), error.message)


def _date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs})


class StatusUpdateForm(forms.Form):
    """The attorney's status update (matching.checkins.status_request_answer checks it again).

    One choice, and only the fields that choice needs: each answer's requirements are checked
    here so that a mistake comes back as a message next to its field, with nothing written.
    """

    answer = forms.ChoiceField(
        label="What happened?", choices=StatusRequest.Answer.choices, widget=forms.RadioSelect
    )
    hearing_date = forms.DateField(
        label="Next hearing date",
        required=False,
        help_text="The date the hearing was continued to, or the next hearing after the one held.",
    )
    filing_deadline = forms.DateField(
        label="Next filing deadline",
        required=False,
        help_text="After a filing: the next deadline, if there is one. Empty clears the old one.",
    )
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Choose…"), *CaseRequest.Outcome.choices]
    )
    relief_type = forms.ChoiceField(
        label="Relief granted",
        required=False,
        choices=[("", "Choose…"), *CaseRequest.Relief.choices],
        help_text="When relief was granted: which.",
    )
    outcome_date = forms.DateField(label="Date the case ended", required=False)
    note = forms.CharField(
        label="Note for the coordinator",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you ask for help. Seen by coordinators only.",
    )

    def __init__(self, *args, today: date, accepted_on: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.accepted_on = today, accepted_on
        later = (today + timedelta(days=1)).isoformat()
        self.fields["hearing_date"].widget = _date_input(min=later)
        self.fields["filing_deadline"].widget = _date_input(min=later)
        self.fields["outcome_date"].widget = _date_input(
            min=accepted_on.isoformat(), max=today.isoformat()
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self):
        data = super().clean()
        answer = data.get("answer")
        Answer = StatusRequest.Answer
        for name in ("hearing_date", "filing_deadline"):
            day = data.get(name)
            if day is not None and day <= self.today:
                self.add_error(name, "The date must be after today.")
        if answer == Answer.CONTINUED and not data.get("hearing_date"):
            self.add_error("hearing_date", "Give the date the hearing was continued to.")
        if answer == Answer.NEED_HELP and not (data.get("note") or "").strip():
            self.add_error("note", "Say what help you need.")
        if answer == Answer.CLOSED:
            self._clean_outcome(data)
        return data

    def _clean_outcome(self, data) -> None:
        if not data.get("outcome"):
            self.add_error("outcome", "Choose the outcome.")
        granted = data.get("outcome") == CaseRequest.Outcome.RELIEF_GRANTED
        if granted and not data.get("relief_type"):
            self.add_error("relief_type", "Say which relief was granted.")
        if not granted:
            data["relief_type"] = ""
        day = data.get("outcome_date")
        if day is None:
            if "outcome_date" not in self.errors:
                self.add_error("outcome_date", "Give the date the case ended.")
        elif day > self.today:
            self.add_error("outcome_date", "The date cannot be in the future.")
        elif day < self.accepted_on:
            self.add_error("outcome_date", "The date is before you accepted the case.")


class VerificationResendForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


class OpportunityFilterForm(forms.Form):
    """The opportunity board's filters (a GET form): choices come from what the matcher lets
    this attorney take (matching.board.BoardScope), so every choice can show cases."""

    DETAINED = [("", "Either"), ("yes", "Detained"), ("no", "Not detained")]

    language = forms.ChoiceField(label="Language", required=False)
    court = forms.TypedChoiceField(label="Court", required=False, coerce=int, empty_value=None)
    case_type = forms.ChoiceField(label="Case type", required=False)
    detained = forms.ChoiceField(label="Detained", required=False, choices=DETAINED)
    hearing_within_days = forms.IntegerField(
        label="Hearing within (days)", required=False, min_value=1, max_value=730
    )
    remote = forms.BooleanField(label="Can be handled remotely", required=False)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
        # Two filters a row on a phone, one a row in the desktop sidebar.
        half = "col-6 col-lg-12"
        self.helper.layout = Layout(
            Row(
                *(Column(name, css_class=half) for name in self.fields if name != "remote"),
                Column("remote", css_class="col-12"),
                css_class="g-2",
            )
        )
        languages = [("", "Any language"), *scope.languages]
        asked = (self.data.get("language") or "")[:3]
        if asked and asked not in scope.spoken:
            # A client's language reached through a relay interpreter or another language they
            # speak (the digest links to the board filtered to it): offered while asked for.
            languages += list(Language.objects.filter(code=asked).values_list("code", "name"))
        self.fields["language"].choices = languages
        self.fields["court"].choices = [
            ("", "Any court"), *((c.pk, f"{c.name}, {c.state}") for c in scope.courts)
        ]  # fmt: skip
        self.fields["case_type"].choices = [("", "Any case type"), *scope.case_types]

    def filters(self):
        """The cleaned values as matching.board.BoardFilters (call after is_valid())."""
        data = self.cleaned_data
        detained = {"yes": True, "no": False}.get(data.get("detained") or "")
        return BoardFilters(
            language=data.get("language") or None,
            court=data.get("court"),
            case_type=data.get("case_type") or None,
            detained=detained,
            hearing_within_days=data.get("hearing_within_days"),
            remote_only=bool(data.get("remote")),
        )


class PutBackForm(forms.Form):
    reason = forms.CharField(
        label="Why are you putting this case back?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Coordinators read this; the case goes back to the pool for another attorney.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
