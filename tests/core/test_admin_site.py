"""The one admin site (core/admin_site.py): it owns the index, the dashboard and the staff login."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.admin_site import ProBonoAdminSite
from core.staff_security import StaffAuthenticationForm

pytestmark = pytest.mark.django_db


def test_the_default_admin_site_is_the_project_site_unpatched():
    assert isinstance(admin.site, ProBonoAdminSite)
    # Its URLs and login come from the class, not from attributes set on the instance elsewhere.
    assert not {"get_urls", "login_form", "login_template"} & set(vars(admin.site))


def test_the_admin_login_page_is_the_staff_login(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert isinstance(response.context["form"], StaffAuthenticationForm)
    assert 'name="otp"' in response.content.decode()


def test_the_index_and_the_dashboard_are_served_by_the_site(client, coord):
    client.force_login(coord)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "Coordinator back office" in index.content.decode()
    assert reverse("admin:dashboard") == "/admin/dashboard/"
    assert client.get(reverse("admin:dashboard")).status_code == 200


def test_the_back_office_pages_name_an_icon_so_the_browser_asks_for_no_favicon(client, coord):
    """Without one, the browser fetches /favicon.ico: a 404 in the console on every admin page."""
    assert '<link rel="icon" href="data:,">' in client.get(reverse("admin:login")).content.decode()
    client.force_login(coord)
    assert '<link rel="icon" href="data:,">' in client.get(reverse("admin:index")).content.decode()
