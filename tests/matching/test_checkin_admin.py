"""The coordinator's side of check-ins (issue 16): the match list's action and filter, the
check-in list and its CSV export, the coordinator home's tiles."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from matching.models import Match, StatusRequest
from tests.factories import OrganizationFactory
from tests.matching.checkins import accepted_case
from volunteers.models import AttorneyProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CHANGELIST = "admin:matching_match_changelist"


@pytest.fixture
def three(att_a, att_b, coord):
    """Accepted cases: two for att_a, one for att_b."""
    return [
        accepted_case(attorney=att_a, coordinator=coord),
        accepted_case(attorney=att_a, coordinator=coord, days_ago=70),
        accepted_case(attorney=att_b, coordinator=coord, days_ago=40),
    ]


def test_the_action_asks_each_attorney_once(
    client, coord, three, att_a, att_b, django_capture_on_commit_callbacks
):
    client.force_login(coord)
    mail.outbox.clear()
    data = {"action": "request_status_selected", ACTION_CHECKBOX_NAME: [m.pk for m in three]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(CHANGELIST) + "?status=accepted", data, follow=True)
    assert response.status_code == 200
    assert "3 status updates requested from 2 attorneys" in response.content.decode()
    assert StatusRequest.objects.count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted([att_a.user.email, att_b.user.email])


def test_plain_staff_cannot_ask(client, staff_plain, three):
    client.force_login(staff_plain)
    data = {"action": "request_status_selected", ACTION_CHECKBOX_NAME: [three[0].pk]}
    response = client.post(reverse(CHANGELIST), data)
    assert response.status_code == 403
    assert not StatusRequest.objects.exists()


@pytest.mark.parametrize(
    ("band", "expected"), [("lt30", [0]), ("30-60", [2]), ("60-90", [1]), ("90+", [])]
)
def test_the_list_filters_by_time_since_acceptance(client, coord, three, band, expected):
    client.force_login(coord)
    response = client.get(reverse(CHANGELIST), {"status": "accepted", "accepted_age": band})
    shown = {m.pk for m in response.context["cl"].result_list}
    assert shown == {three[i].pk for i in expected}


def test_the_home_lists_requests_unanswered_after_the_reminder(
    client, coord, three, django_capture_on_commit_callbacks
):
    from matching.checkins import status_requests_create
    from matching.tasks.checkins import status_requests_remind_due

    with django_capture_on_commit_callbacks(execute=True):
        status_requests_create(matches=three[:2], actor=coord)
    StatusRequest.objects.update(notified_at=timezone.now() - timedelta(days=8))
    status_requests_remind_due()
    client.force_login(coord)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'data-tile="checkins-unanswered">2<' in page
    listed = client.get(reverse("admin:matching_statusrequest_changelist"), {"state": "reminded"})
    assert len(listed.context["cl"].result_list) == 2


def test_the_export_escapes_formulas_and_names_no_respondent(client, coord, three, att_a):
    from matching.checkins import status_requests_create

    organization = OrganizationFactory(name='=HYPERLINK("http://x")')
    AttorneyProfile.objects.filter(pk=att_a.pk).update(organization=organization)
    status_requests_create(matches=three, actor=coord)
    client.force_login(coord)
    ids = list(StatusRequest.objects.values_list("pk", flat=True))
    data = {"action": "export_selected", ACTION_CHECKBOX_NAME: ids}
    response = client.post(reverse("admin:matching_statusrequest_changelist") + "?state=all", data)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["request", "case"] and len(rows) == 4
    organizations = {row[5] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in organizations
    case = Match.objects.get(pk=three[0].pk).case
    assert case.respondent_name not in body and case.a_number not in body
