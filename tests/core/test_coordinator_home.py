"""The admin index is the coordinator's work list: queues with counts and links, the last run,
recent activity from the event log (issue: daily work, item 1)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.services import event_record
from matching.models import Match, MatchingRun
from tests.factories import AttorneyFactory, MatchFactory

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")
Status = Match.Status


@pytest.fixture
def busy_day(db):
    """Work in every queue, plus rows just outside each queue's bounds."""
    now = timezone.now()
    AttorneyFactory.create_batch(2, verification="pending")
    AttorneyFactory(verification="rejected")
    MatchFactory.create_batch(3, status=Status.PROPOSED)
    MatchFactory(status=Status.OFFERED, expires_at=now + timedelta(hours=3))
    MatchFactory(status=Status.OFFERED, expires_at=now + timedelta(days=3))
    MatchFactory(status=Status.DECLINED, decline_reason="distance")
    old = MatchFactory(status=Status.DECLINED, decline_reason="distance")
    Match.objects.filter(pk=old.pk).update(status_changed_at=now - timedelta(days=3))
    MatchFactory(status=Status.EXPIRED)
    MatchingRun.objects.create(
        status=MatchingRun.Status.FINISHED, proposals=42, stats={"unreachable_cases": 17}
    )


def test_a_coordinator_sees_each_queue_counted(client, coord, busy_day):
    client.force_login(coord)
    worklist = client.get(INDEX).context["worklist"]
    assert worklist.awaiting_verification == 2
    assert worklist.proposals_to_review == 3
    assert worklist.offers_expiring == 1
    assert worklist.declined_since_yesterday == 1
    assert worklist.expired_since_yesterday == 1
    assert worklist.unreachable_cases == 17


def test_the_home_page_links_each_queue_and_runs_matching(client, coord, busy_day):
    client.force_login(coord)
    html = client.get(INDEX).content.decode()
    assert "Today&#x27;s work" in html or "Today's work" in html
    changelist = reverse("admin:matching_match_changelist")
    assert f'href="{changelist}?status=proposed"' in html
    assert (
        f'href="{reverse("admin:volunteers_attorneyprofile_changelist")}?verification__exact=pending"'
        in html
    )
    assert f'action="{reverse("admin:matching_matchingrun_run_now")}"' in html
    assert f'href="{reverse("admin:dashboard")}"' in html
    assert "42 proposals" in html
    assert ">17</span> open cases nobody can take" in html


def test_the_queue_links_lead_to_pages_that_open(client, coord, busy_day):
    client.force_login(coord)
    changelist = reverse("admin:matching_match_changelist")
    for status in ("proposed", "offered", "declined", "expired"):
        response = client.get(changelist, {"status": status})
        assert response.status_code == 200
        assert response.context["cl"].result_count >= 1
    verification = reverse("admin:volunteers_attorneyprofile_changelist")
    response = client.get(verification, {"verification__exact": "pending"})
    assert response.context["cl"].result_count == 2


def test_recent_activity_comes_from_the_event_log(client, coord, busy_day):
    match = Match.objects.filter(status=Status.PROPOSED).first()
    event_record(verb="match.approved", actor=coord, target=match)
    client.force_login(coord)
    html = client.get(INDEX).content.decode()
    assert "match.approved" in html
    assert f"match {match.pk}" in html
    assert "None available" not in html


def test_staff_without_the_coordinators_permission_see_no_work_list(client, staff_plain, busy_day):
    client.force_login(staff_plain)
    response = client.get(INDEX)
    assert response.status_code == 200
    assert "worklist" not in response.context
    assert "Run matching now" not in response.content.decode()


def test_the_home_page_costs_a_fixed_number_of_queries(
    client, coord, busy_day, django_assert_max_num_queries
):
    client.force_login(coord)
    client.get(INDEX)
    MatchFactory.create_batch(20, status=Status.PROPOSED)
    AttorneyFactory.create_batch(10, verification="pending")
    with django_assert_max_num_queries(20):
        client.get(INDEX)
