"""Request bodies are capped before anything reads them (issue 11 #14, SEC-17): a file posted to a
form that takes none is refused with 413, and only the case import takes a file, up to its limit."""

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import CaseImport

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _pledges() -> int:
    [model] = [m for m in apps.get_models() if m.__name__ == "Pledge"]
    return model.objects.count()


def test_a_large_file_posted_to_the_pledge_form_is_refused_unread(client):  # SEC-17
    big = SimpleUploadedFile("big.bin", b"x" * (3 * MB))
    response = client.post(reverse("pledges:new"), {"organization_name": "Firm", "file": big})
    assert response.status_code == 413
    assert _pledges() == 0


def test_a_large_form_body_is_refused_too(client, settings):  # SEC-17
    response = client.post(reverse("pledges:new"), {"message": "x" * (2 * MB)})
    assert response.status_code == 413
    assert _pledges() == 0


def test_an_ordinary_form_post_is_untouched(client):
    response = client.post(reverse("pledges:new"), {"organization_name": "Firm"})
    assert response.status_code == 200  # the form again with its own errors, not the cap's 413
    assert response.context["form"].errors and _pledges() == 0


def test_the_import_takes_a_file_up_to_its_limit_and_refuses_beyond(client, coord, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2 * MB
    client.force_login(coord)
    url = reverse("admin:cases_caserequest_import")
    within_body = SimpleUploadedFile("cases.csv", b"x" * int(2.5 * MB))  # past the body cap
    response = client.post(url, {"import_file": within_body})
    assert response.status_code == 200  # reached the form, which refuses a file that size
    assert "larger than 2 MB" in str(response.context["form"].errors)
    far_beyond = SimpleUploadedFile("cases.csv", b"x" * (4 * MB))
    assert client.post(url, {"import_file": far_beyond}).status_code == 413
    assert CaseImport.objects.count() == 0


@pytest.mark.parametrize("length", ["abc", "-5", ""])
def test_a_malformed_content_length_is_no_error(client, length):
    response = client.get(reverse("home"), CONTENT_LENGTH=length)
    assert response.status_code == 200
