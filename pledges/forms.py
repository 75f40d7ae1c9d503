"""The public pledge form. It validates input; pledges/services.py does the writing."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils import timezone

from cases.models import CaseType, ImmigrationCourt, Language
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
    contact_phone = forms.CharField(label="Phone (optional)", max_length=32, required=False)
    kind = forms.ChoiceField(label="We commit", choices=Pledge.Kind)
    amount = forms.IntegerField(min_value=1, max_value=1_000_000)
    period_start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    courts = _ChoicesField(
        queryset=ImmigrationCourt.objects.order_by("name"), required=False,
        help_text="Optional: the immigration courts you will cover.",
    )  # fmt: skip
    languages = _ChoicesField(
        queryset=Language.objects.filter(common_rank__isnull=False).order_by("name"),
        required=False,
    )
    case_types = _ChoicesField(
        queryset=CaseType.objects.order_by("name"), required=False, label="Kinds of case"
    )
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
            year = timezone.localdate().year
            self.initial = {"period_start": date(year, 1, 1), "period_end": date(year + 1, 1, 1)}
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
            Fieldset("Commitment", "kind", "amount", "period_start", "period_end", "courts",
                     "languages", "case_types", "message", "public"),
        )  # fmt: skip

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
