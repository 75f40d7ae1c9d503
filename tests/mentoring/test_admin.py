"""The mentoring back office: "Run mentor matching", and review actions through services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from mentoring.models import Mentorship
from tests.mentoring.people import mentee_create, mentor_create

pytestmark = pytest.mark.django_db
RUN = "admin:mentoring_mentorship_run"
CHANGELIST = "admin:mentoring_mentorship_changelist"


def test_a_coordinator_runs_mentor_matching_and_sees_the_proposal(client, coord):
    mentee, mentor = mentee_create(), mentor_create()
    client.force_login(coord)
    response = client.post(reverse(RUN), follow=True)
    assert "1 pairing(s) proposed" in response.content.decode()
    assert Mentorship.objects.get().mentee == mentee
    assert str(mentor) in response.content.decode()


def test_the_run_button_is_post_only_and_staff_without_permission_are_refused(
    client, coord, staff_plain
):
    mentee_create(), mentor_create()
    client.force_login(coord)
    assert client.get(reverse(RUN)).status_code == 405
    client.force_login(staff_plain)
    assert client.post(reverse(RUN)).status_code == 403
    assert not Mentorship.objects.exists()


def test_an_attorney_cannot_run_mentor_matching(client, att_a):
    mentee_create(), mentor_create()
    client.force_login(att_a.user)
    assert client.post(reverse(RUN)).status_code == 302  # to the admin login
    assert not Mentorship.objects.exists()


@pytest.mark.parametrize(
    ("action", "status"), [("approve_selected", "offered"), ("reject_selected", "rejected")]
)
def test_review_actions_go_through_the_services(client, coord, action, status):
    mentee_create(), mentor_create()
    client.force_login(coord)
    client.post(reverse(RUN))
    mentorship = Mentorship.objects.get()
    client.post(reverse(CHANGELIST), {"action": action, ACTION_CHECKBOX_NAME: [mentorship.pk]})
    assert Mentorship.objects.get().status == status
