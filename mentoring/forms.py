"""Mentoring input: cleaning and messages only; mentoring.services does the writing."""

from crispy_forms.helper import FormHelper
from django import forms

from mentoring.models import MAX_MENTEES
from mentoring.services import NOTE_MAX


class PreferencesForm(forms.Form):
    wants_mentor = forms.BooleanField(
        label="I am new to immigration practice and would like a mentor", required=False
    )
    request_note = forms.CharField(
        label="What would help you most (optional)",
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the mentor we propose. No client names or case details, please.",
    )
    mentee_capacity = forms.IntegerField(
        label="Attorneys I can mentor at once",
        min_value=0,
        max_value=MAX_MENTEES,
        initial=0,
        required=False,
        help_text="0: I do not mentor right now.",
    )

    def __init__(self, *args, can_mentor: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_mentor:
            del self.fields["mentee_capacity"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_mentee_capacity(self):
        return self.cleaned_data.get("mentee_capacity") or 0
