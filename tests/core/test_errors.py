import pytest
from django.test import Client
from django.urls import path

from core import views as core_views


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
