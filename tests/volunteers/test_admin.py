import pytest
from django.core import mail
from django.urls import reverse

from core.models import DomainEvent
from volunteers.models import AttorneyProfile, BarAdmission

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:volunteers_attorneyprofile_changelist"


def _action(client, action, *attorneys):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [a.pk for a in attorneys]},
        follow=True,
    )


def test_a_coordinator_verifies_through_the_admin_action(
    client, coord, att_new, celery_eager, django_capture_on_commit_callbacks
):
    BarAdmission.objects.create(attorney=att_new, jurisdiction="NY", bar_number="1")
    client.force_login(coord)
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(client, "verify_selected", att_new)
    assert response.status_code == 200
    att_new.refresh_from_db()
    assert att_new.verification == AttorneyProfile.Verification.VERIFIED
    assert DomainEvent.objects.filter(verb="attorney.verified", actor=coord).count() == 1
    assert mail.outbox[0].to == [att_new.user.email]


def test_an_attorney_without_an_active_admission_is_not_verified(client, coord, att_new):
    client.force_login(coord)
    response = _action(client, "verify_selected", att_new)
    assert "no active bar admission" in response.content.decode()
    att_new.refresh_from_db()
    assert att_new.verification == AttorneyProfile.Verification.PENDING


def test_a_coordinator_rejects_through_the_admin_action(client, coord, att_new):
    client.force_login(coord)
    _action(client, "reject_selected", att_new)
    att_new.refresh_from_db()
    assert att_new.verification == AttorneyProfile.Verification.REJECTED


def test_verification_cannot_be_edited_by_hand(client, coord, att_new):
    client.force_login(coord)
    url = reverse("admin:volunteers_attorneyprofile_change", args=[att_new.pk])
    assert 'name="verification"' not in client.get(url).content.decode()


def test_staff_without_permission_cannot_run_the_action(client, staff_plain, att_new):
    client.force_login(staff_plain)
    assert _action(client, "verify_selected", att_new).status_code == 403
    att_new.refresh_from_db()
    assert att_new.verification == AttorneyProfile.Verification.PENDING


def test_the_verification_list_shows_bar_jurisdiction_and_number(client, coord, att_new):
    BarAdmission.objects.filter(attorney=att_new).delete()
    BarAdmission.objects.create(attorney=att_new, jurisdiction="NY", bar_number="5550123")
    BarAdmission.objects.create(attorney=att_new, jurisdiction="NJ", bar_number="0099887")
    client.force_login(coord)
    url = reverse("admin:volunteers_attorneyprofile_changelist")
    html = client.get(url, {"verification__exact": "pending"}).content.decode()
    assert "NJ 0099887 (Active, in good standing); NY 5550123 (Active, in good standing)" in html


def test_the_attorney_list_costs_the_same_queries_for_more_attorneys(
    client, coord, django_assert_max_num_queries
):
    from tests.factories import AttorneyFactory

    AttorneyFactory.create_batch(3)
    client.force_login(coord)
    url = reverse("admin:volunteers_attorneyprofile_changelist")
    client.get(url)
    AttorneyFactory.create_batch(15)
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
