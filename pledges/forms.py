"""The public pledge form. It validates input; pledges/services.py does the writing."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Fieldset, Layout
from django import forms
from django.utils import timezone

from cases.models import CaseType, ImmigrationCourt, Language
from core.forms import PhoneField
from pledges.models import Pledge
from pledges.services import PledgeData, PledgeError
from volunteers.models import US_JURISDICTIONS, Organization


class _ChoicesField(forms.ModelMultipleChoiceField):
    """Refuses values no primary key can have before they reach the database: PostgreSQL
    rejects NUL bytes in a query with an error, not an empty result (SEC-17)."""

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if any("\x00" in str(v) or len(str(v)) > 40 for v in values):
            raise forms.ValidationError("Select a valid choice.", code="invalid_pk_value")
        return super().clean(value)


CHECKBOX_GROUPS = ("courts", "languages", "case_types")


def _a_year_after(day: date) -> date:
    """The same day a year later (29 February: the 28th), for a period of the next 12 months."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


class PledgeForm(forms.Form):
    organization_name = forms.CharField(label="Organization name", max_length=200)
    organization_kind = forms.ChoiceField(label="Kind of organization", choices=Organization.Kind)
    city = forms.CharField(max_length=80, required=False)
    state = forms.ChoiceField(choices=[("", "—"), *US_JURISDICTIONS], required=False)
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")
    contact_name = forms.CharField(label="Your name", max_length=120)
    contact_email = forms.EmailField(
        label="Your email", max_length=254, help_text="We send a link to confirm the pledge."
    )
    contact_phone = PhoneField(label="Phone (optional)")
    kind = forms.ChoiceField(label="We commit", choices=Pledge.Kind)
    amount = forms.IntegerField(min_value=1, max_value=1_000_000)
    period_start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    # Checkbox groups, not multi-select boxes: each option is visible and ticks on its own;
    # static/js/pledge-form.js adds a filter box (the plain list works without it).
    courts = _ChoicesField(
        queryset=ImmigrationCourt.objects.order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Optional: tick the immigration courts you will cover, as many as you like.",
    )  # fmt: skip
    languages = _ChoicesField(
        queryset=Language.objects.filter(common_rank__isnull=False).order_by("name"),
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Optional: languages your attorneys can work in, as many as you like.",
    )  # fmt: skip
    case_types = _ChoicesField(
        queryset=CaseType.objects.order_by("name"), required=False, label="Kinds of case",
        widget=forms.CheckboxSelectMultiple,
        help_text="Optional: the kinds of case you will take, as many as you like.",
    )  # fmt: skip
    message = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    public = forms.BooleanField(
        label="List our organization and this pledge on the public pledge wall", required=False
    )
    # Honeypot: hidden from people by CSS class (no inline style: strict CSP), filled by bots.
    website_confirm = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial:
            start = timezone.localdate()
            self.initial = {"period_start": start, "period_end": _a_year_after(start)}
        if editing:  # the organization and email identify the pledge; they are not edited
            for name in ("organization_name", "organization_kind", "city", "state", "website"):
                self.fields[name].disabled = True
            self.fields["contact_email"].disabled = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset("Organization", "organization_name", "organization_kind", "city", "state",
                     "website"),
            Fieldset("Contact", "contact_name", "contact_email", "contact_phone"),
            Fieldset("Commitment", "kind", "amount", "period_start", "period_end",
                     *(Field(name, wrapper_class="checkbox-search") for name in CHECKBOX_GROUPS),
                     "message", "public"),
        )  # fmt: skip

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the summary at the top of the form: each error links to its
        field (a checkbox group to its wrapper; an error of the whole form to the summary)."""
        summary = [("error-summary", str(message)) for message in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            field = self[name]
            anchor = f"div_{field.auto_id}" if name in CHECKBOX_GROUPS else field.auto_id
            summary += [(anchor, f"{field.label}: {message}") for message in errors]
        return summary

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website_confirm"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end <= start:
            self.add_error("period_end", "The period must end after it starts.")
        if start and not 2000 <= start.year <= 2100:
            self.add_error("period_start", "Enter a date between 2000 and 2100.")
        if end and not 2000 <= end.year <= 2100:
            self.add_error("period_end", "Enter a date between 2000 and 2100.")
        return cleaned

    def data_object(self) -> PledgeData:
        c = self.cleaned_data
        return PledgeData(
            **{name: c[name] for name in PledgeData.__dataclass_fields__ if name in c},
        )

    def add_domain_error(self, error: PledgeError) -> None:
        self.add_error(None, error.message)


def pledge_initial(pledge: Pledge) -> dict:
    """The saved values, for the contact's edit form."""
    organization = pledge.organization
    return {
        "organization_name": organization.name,
        "organization_kind": organization.kind,
        "city": organization.city,
        "state": organization.state,
        "website": organization.website,
        "contact_name": pledge.contact_name,
        "contact_email": pledge.contact_email,
        "contact_phone": pledge.contact_phone,
        "kind": pledge.kind,
        "amount": pledge.amount,
        "period_start": pledge.period_start,
        "period_end": pledge.period_end,
        "courts": list(pledge.courts.all()),
        "languages": list(pledge.languages.all()),
        "case_types": list(pledge.case_types.all()),
        "message": pledge.message,
        "public": pledge.public,
    }


class ConfirmForm(forms.Form):
    """An empty form: confirming and withdrawing are POSTs (mail scanners prefetch links)."""
