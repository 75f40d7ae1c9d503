"""The admin index is the coordinator's work list: queues with counts and links, the last run,
recent activity from the event log (issue: daily work, item 1)."""

import re
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
    # 22: the last run with proposals and its count awaiting review are two of them.
    with django_assert_max_num_queries(22):
        client.get(INDEX)


def _text(html: str, marker: str) -> str:
    """The words of the paragraph carrying ``marker`` (data-run="..."), tags and spacing gone."""
    start = html.index(marker)
    paragraph = html[html.index(">", start) + 1 : html.index("</p>", start)]
    return " ".join(re.sub(r"<[^>]+>", "", paragraph).split())


def _run(proposals: int, *, status=MatchingRun.Status.FINISHED, ago: int = 0) -> MatchingRun:
    run = MatchingRun.objects.create(status=status, proposals=proposals)
    started = timezone.now() - timedelta(minutes=ago)
    MatchingRun.objects.filter(pk=run.pk).update(started_at=started)
    run.refresh_from_db()
    return run


def test_a_run_that_found_nothing_new_does_not_hide_the_last_that_did(client, coord):
    productive = _run(3, ago=5)
    MatchFactory.create_batch(3, run=productive, status=Status.PROPOSED)
    Match.objects.filter(pk=Match.objects.first().pk).update(status=Status.APPROVED)
    empty = _run(0, ago=1)  # the second click's run: nothing left to propose
    client.force_login(coord)
    html = client.get(INDEX).content.decode()
    assert _text(html, 'data-run="last"').startswith(f"Last run: run {empty.pk}, finished")
    assert "0 proposals (nothing new to propose)." in _text(html, 'data-run="last"')
    assert _text(html, 'data-run="last-with-proposals"').endswith(
        "3 proposals: 2 still awaiting review."
    )
    review = reverse("admin:matching_match_changelist")
    assert f'href="{review}?status=proposed&amp;run={productive.pk}"' in html


def test_a_skipped_or_running_last_run_also_shows_the_last_with_proposals(client, coord):
    productive = _run(4, ago=9)
    MatchFactory.create_batch(4, run=productive, status=Status.PROPOSED)
    _run(0, status=MatchingRun.Status.SKIPPED, ago=2)
    client.force_login(coord)
    html = client.get(INDEX).content.decode()
    assert "skipped (another run held the lock)" in _text(html, 'data-run="last"')
    assert f"run {productive.pk}" in _text(html, 'data-run="last-with-proposals"')
    assert "4 still awaiting review" in _text(html, 'data-run="last-with-proposals"')


def test_a_last_run_with_proposals_shows_how_many_await_review(client, coord):
    run = _run(2)
    MatchFactory(run=run, status=Status.PROPOSED)
    MatchFactory(run=run, status=Status.REJECTED)
    client.force_login(coord)
    html = client.get(INDEX).content.decode()
    assert _text(html, 'data-run="last"').endswith("2 proposals: 1 still awaiting review.")
    assert 'data-run="last-with-proposals"' not in html


def test_the_home_says_when_a_run_now_is_queued(client, coord):
    from matching.in_flight import run_now_claim

    client.force_login(coord)
    assert 'data-run="queued"' not in client.get(INDEX).content.decode()
    run_now_claim()
    html = client.get(INDEX).content.decode()
    assert _text(html, 'data-run="queued"').startswith(
        'A run asked for with "Run matching now" is queued (since '
    )
