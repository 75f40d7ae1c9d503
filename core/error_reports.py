"""Error reports (the mail to ADMINS on a 500, the DEBUG page) without personal data (SEC-5).

Views that receive identifiers are many (the admin add and change forms, the A-number lookup,
partner intake, the import) and will be more, so rather than decorating each one, the reporter
itself scrubs every report, whatever the view:

- request fields (POST, GET, frame variables that are dicts) whose name says they hold a person's
  data: respondent name, A-number, contact route, names, e-mail, phone, free text, secrets;
- anything shaped like an A-number, in any value and in the finished report (an exception's
  message, the URL, the headers);
- uploaded files' names (``Maria Tzul.csv``): a report shows their size only.

Settings: DEFAULT_EXCEPTION_REPORTER_FILTER and DEFAULT_EXCEPTION_REPORTER name the two classes.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.utils.datastructures import MultiValueDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from cases.identifiers import scrub_a_numbers

SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute
# Field and variable names whose values are personal data or secrets. Broad on purpose: hiding a
# harmless field from a report costs a little debugging; mailing a name costs a person.
PERSONAL_NAME = re.compile(
    r"respondent|a_?number|contact|name|e_?mail|phone|address|summary|note|bio|"
    r"password|secret|token|otp",
    re.IGNORECASE,
)
_MAX_DEPTH = 4


def scrub(value: Any, *, depth: int = 0) -> Any:
    """A copy of ``value`` with personal fields and A-numbers hidden, through nested containers."""
    if isinstance(value, str):
        return scrub_a_numbers(value, substitute=SUBSTITUTE)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, MultiValueDict):
        cleaned = value.copy()  # a QueryDict's copy is mutable
        for key, values in value.lists():
            cleaned.setlist(key, [_scrub_item(key, item, depth) for item in values])
        return cleaned
    if isinstance(value, Mapping):
        return {key: _scrub_item(key, item, depth) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(item, depth=depth + 1) for item in value)
    return value


def _scrub_item(key: Any, value: Any, depth: int) -> Any:
    if isinstance(key, str) and PERSONAL_NAME.search(key):
        return SUBSTITUTE
    return scrub(value, depth=depth + 1)


class IdentifierSafeReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (settings, sensitive_post_parameters, sensitive_variables) plus the
    scrubbing above, always on: a DEBUG page shown on a screen is a report too."""

    def get_post_parameters(self, request):
        return scrub(super().get_post_parameters(request))

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if request is not None and "QUERY_STRING" in meta:
            meta["QUERY_STRING"] = scrub(request.GET).urlencode(safe="*")
        return scrub(meta)

    def get_safe_cookies(self, request):
        return scrub(super().get_safe_cookies(request))

    def cleanse_special_types(self, request, value):
        return scrub(super().cleanse_special_types(request, value))

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, SUBSTITUTE if PERSONAL_NAME.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class IdentifierSafeExceptionReporter(ExceptionReporter):
    """Scrubs what Django's reporter shows without asking the filter: the query string, the
    uploaded files' names, and (a last pass) A-numbers anywhere in the finished report."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            query = scrub(self.request.GET)
            data["request_GET_items"] = query.items()
            data["request_FILES_items"] = [
                (key, f"<file of {upload.size} bytes>")
                for key, upload in self.request.FILES.items()
            ]
            uri = f"{self.request.scheme}://{self.request._get_raw_host()}{self.request.path}"
            data["request_insecure_uri"] = uri + (f"?{query.urlencode(safe='*')}" if query else "")
        return data

    def get_traceback_text(self):
        return scrub(super().get_traceback_text())

    def get_traceback_html(self):
        return scrub(super().get_traceback_html())
