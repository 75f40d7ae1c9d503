"""Interpreter profile input: cleaning and messages only; interpreters.services writes."""

from crispy_forms.helper import FormHelper
from django import forms

from core.forms import PhoneField
from volunteers.models import zip_validator


class InterpreterForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    phone = PhoneField(help_text="Coordinators call only about your cases.")
    home_zip = forms.CharField(
        label="Home ZIP code",
        max_length=5,
        validators=[zip_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    travel_radius_miles = forms.IntegerField(
        label="How far will you travel to court (miles)?", min_value=0, max_value=3000, initial=50
    )
    remote_ok = forms.BooleanField(
        label="I can interpret by phone or video", required=False, initial=True
    )
    capacity = forms.IntegerField(
        label="Cases I can interpret for at once", min_value=1, max_value=20, initial=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
