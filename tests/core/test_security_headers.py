"""Headers and session settings that no other test pins down (SEC-2, SEC-3).

Each test here fails when its protection is removed from config/settings.py or core.middleware
(a one-line mutation each); the rest of SEC-2..SEC-4 is in tests/core/test_views.py and
tests/core/test_settings.py.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_open_no_window_that_can_reach_back_into_them(client):  # SEC-2
    response = client.get(reverse("home"))
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_forms_may_post_only_to_the_site_itself(client):  # SEC-2
    csp = client.get(reverse("home")).headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp


def test_an_attorneys_own_pages_are_never_cached(client, att_a):  # SEC-3
    # The admin's pages are never_cache by themselves: an attorney's are not, but for the
    # middleware, and they show offers and cases.
    client.force_login(att_a.user)
    response = client.get(reverse("volunteers:dashboard"))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
