"""A deactivated account's sessions end with it (SEC-10; issue 11 #10)."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def attorney(att_a):
    EmailAddress.objects.create(
        user=att_a.user, email=att_a.user.email, verified=True, primary=True
    )
    return att_a.user


def _signed_in(user) -> Client:
    """A browser that signed in through the site login."""
    browser = Client()
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and browser.session["_auth_user_id"] == str(user.pk)
    return browser


def _sessions_of(user) -> int:
    return sum(s.get_decoded().get("_auth_user_id") == str(user.pk) for s in Session.objects.all())


def _reactivated_sees_dashboard(browser, user) -> int:
    user.refresh_from_db()
    user.is_active = True
    user.save()
    return browser.get(reverse("volunteers:dashboard")).status_code


def test_deactivation_ends_every_session_so_reactivation_revives_none(attorney):  # SEC-10
    browsers = [_signed_in(attorney), _signed_in(attorney)]
    bystander = _signed_in(_other_attorney())
    attorney.is_active = False
    attorney.save()
    assert _sessions_of(attorney) == 0
    for browser in browsers:
        response_status = _reactivated_sees_dashboard(browser, attorney)
        assert response_status == 302  # to the login: the old cookie is worthless
    assert bystander.get(reverse("volunteers:dashboard")).status_code == 200
    ended = DomainEvent.objects.get(verb="account.sessions_ended")
    assert ended.target_id == str(attorney.pk) and ended.data == {"sessions": 2}


def test_deactivation_in_the_admin_ends_the_sessions(attorney):  # SEC-10
    browser = _signed_in(attorney)
    admin = UserFactory(username="root@example.org", is_staff=True, is_superuser=True)
    from tests.conftest import _with_totp

    _with_totp(admin)
    office = Client()
    office.force_login(admin)
    url = reverse("admin:auth_user_change", args=[attorney.pk])
    form = office.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"password", "groups", "user_permissions"}
    }
    data |= {"last_login_0": "2026-01-01", "last_login_1": "10:00", "date_joined_0": "2026-01-01",
             "date_joined_1": "10:00"}  # fmt: skip
    data.pop("is_active", None)  # the box unticked
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = office.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    attorney.refresh_from_db()
    assert not attorney.is_active
    assert _reactivated_sees_dashboard(browser, attorney) == 302


def test_deleting_the_account_ends_its_sessions_in_other_browsers(attorney):  # SEC-10
    phone, laptop = _signed_in(attorney), _signed_in(attorney)
    response = laptop.post(reverse("volunteers:account_delete"), {"confirm": "DELETE"})
    assert response.status_code == 302
    assert _sessions_of(attorney) == 0
    assert phone.get(reverse("volunteers:dashboard")).status_code == 302


def test_a_save_that_does_not_deactivate_keeps_the_sessions(attorney):  # SEC-10
    browser = _signed_in(attorney)
    attorney.first_name = "Ana"
    attorney.save()
    assert browser.get(reverse("volunteers:dashboard")).status_code == 200


def _other_attorney():
    from tests.factories import AttorneyFactory

    user = AttorneyFactory(user__username="att-other@example.org").user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user
