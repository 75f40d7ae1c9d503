"""The profile's preferences step (issue 13): what the matcher honours, saved by a service."""

import re

import pytest
from django.urls import reverse

from core.models import DomainEvent
from volunteers.models import AttorneyProfile, WorkMode
from volunteers.services import AttorneyError, attorney_preferences_set

pytestmark = pytest.mark.django_db

URL = reverse("volunteers:profile_step", args=["preferences"])
GOOD = {
    "work_mode": "remote_preferred",
    "preferred_types": ["asylum"],
    "excluded_types": ["bond"],
    "detained_ok": "no",
    "monthly_offer_cap": "3",
    "digest_enabled": "on",
}


def test_the_step_saves_every_preference(client, att_a):
    client.force_login(att_a.user)
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    att_a.refresh_from_db()
    assert att_a.work_mode == WorkMode.REMOTE_PREFERRED
    assert (att_a.remote_ok, att_a.remote_preferred) == (True, True)
    assert [t.pk for t in att_a.preferred_types.all()] == ["asylum"]
    assert [t.pk for t in att_a.excluded_types.all()] == ["bond"]
    assert att_a.detained_ok is False and att_a.monthly_offer_cap == 3 and att_a.digest_enabled
    event = DomainEvent.objects.filter(verb="attorney.profile_updated").latest("pk")
    assert event.data["step"] == "preferences" and event.data["excluded"] == ["bond"]


def test_the_step_shows_what_is_saved(client, att_a):
    att_a.excluded_types.add("bond")
    AttorneyProfile.objects.filter(pk=att_a.pk).update(remote_ok=True, detained_ok=False)
    client.force_login(att_a.user)
    html = client.get(URL).content.decode()
    checked = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([\w-]+)"[^>]*checked', html)
    assert {
        ("work_mode", "remote_welcome"),
        ("excluded_types", "bond"),
        ("detained_ok", "no"),
    } <= set(checked)
    assert "Where do you want to work?" in html and "Step 6 of 7" in html


def test_in_person_only_and_no_digest(client, att_a):
    client.force_login(att_a.user)
    client.post(URL, {**GOOD, "work_mode": "in_person", "digest_enabled": ""})
    att_a.refresh_from_db()
    assert att_a.work_mode == WorkMode.IN_PERSON and not att_a.remote_preferred
    assert not att_a.digest_enabled


@pytest.mark.parametrize(
    "bad",
    [
        {"work_mode": "teleport"},
        {"preferred_types": ["asylum"], "excluded_types": ["asylum"]},
        {"monthly_offer_cap": "0"},
        {"monthly_offer_cap": "x" * 5000},
        {"detained_ok": "maybe"},
        {"excluded_types": ["no-such-type"]},
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(client, att_a, bad):
    client.force_login(att_a.user)
    events = DomainEvent.objects.count()
    response = client.post(URL, {**GOOD, **bad})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "alert-danger" in response.content.decode()
    att_a.refresh_from_db()
    assert att_a.work_mode == WorkMode.IN_PERSON and att_a.monthly_offer_cap is None
    assert not att_a.excluded_types.exists() and DomainEvent.objects.count() == events


def test_the_service_refuses_a_type_both_preferred_and_excluded(att_a):
    with pytest.raises(AttorneyError) as refused:
        attorney_preferences_set(
            attorney=att_a, work_mode="in_person", preferred_types=["asylum"],
            excluded_types=["asylum"], detained_ok=True, monthly_offer_cap=None,
            digest_enabled=True,
        )  # fmt: skip
    assert refused.value.code == "both"


def test_new_attorneys_get_the_digest_and_work_in_person_by_default(att_new):
    assert att_new.digest_enabled and att_new.work_mode == WorkMode.IN_PERSON
    assert att_new.detained_ok and att_new.monthly_offer_cap is None


def test_a_post_without_csrf_is_refused_and_writes_nothing(att_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    assert client.post(URL, GOOD).status_code == 403
    att_a.refresh_from_db()
    assert att_a.work_mode == WorkMode.IN_PERSON


def test_the_account_page_links_the_digest_switch(client, att_a):
    client.force_login(att_a.user)
    html = client.get(reverse("volunteers:account")).content.decode()
    assert URL in html and "weekly email of new cases (now on)" in html
