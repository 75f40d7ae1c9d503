import logging
import sys

import pytest
from django.core import mail
from django.test import Client
from django.urls import path

from core import views as core_views
from core.error_reports import IdentifierSafeExceptionReporter


def boom(request):
    raise RuntimeError("secret detail A123456789 that must not leak")


urlpatterns = [path("", core_views.home), path("boom", boom)]


@pytest.mark.urls("tests.core.test_errors")
@pytest.mark.django_db
def test_a_server_error_shows_a_generic_page(settings):  # SEC-5
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/boom")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "A123456789" not in body and "Traceback" not in body and "RuntimeError" not in body


def boom_with_identifiers(request):
    raise RuntimeError(f"could not process {request.POST.get('note')} for A-087-654-321")


urlpatterns.append(path("boom-identifiers", boom_with_identifiers))


@pytest.mark.urls("tests.core.test_errors")
@pytest.mark.django_db
def test_an_error_report_hides_identifiers_in_the_query_form_and_message(settings):  # SEC-5
    settings.ADMINS = ["ops@example.org"]
    response = Client(raise_request_exception=False).post(
        "/boom-identifiers?lookup=A087654321&name=Maria+Tzul&page=2",
        {"respondent_name": "Maria Tzul", "free": "a 087 654 321 b", "note": "x"},
        HTTP_REFERER="https://probono.example.org/admin/?q=087-654-321",
    )
    assert response.status_code == 500
    report = mail.outbox[0].body
    for secret in ("Maria", "Tzul", "087654321", "087-654-321", "087 654 321"):
        assert secret not in report
    assert "page = '2'" in report  # what identifies no one stays in the report


# Out of the test's body: the report quotes the source lines around each frame too.
LOCAL_NAME = "Maria Tzul"


def test_a_report_hides_a_local_variable_named_for_personal_data(rf):  # SEC-5
    """The HTML report (the DEBUG page, an HTML mail) shows each frame's local variables: one
    whose name says personal data is starred, like the POST field it came from."""
    request = rf.post("/intake", {"respondent_name": LOCAL_NAME})
    try:
        respondent_name = request.POST["respondent_name"]
        raise RuntimeError(f"could not process a name of {len(respondent_name)} characters")
    except RuntimeError:
        html = IdentifierSafeExceptionReporter(request, *sys.exc_info()).get_traceback_html()
    assert "respondent_name" in html and "could not process a name of 10" in html
    assert LOCAL_NAME not in html


def test_log_lines_and_tracebacks_hide_a_numbers():  # SEC-23
    console = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    try:
        raise ValueError("bad value 'A-087-654-321'")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "lookup of %s failed", ("087654321",), sys.exc_info()
        )
    line = console.format(record)
    assert "lookup of" in line and "ValueError" in line
    assert "087" not in line
