"""Offer emails, reminders and expiry: the Celery tasks of the match lifecycle.

Tasks run in-process with `.apply()` (the real worker round trip is the one `worker` test).
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from config.celery import app
from core.models import DomainEvent
from matching import services
from matching.models import Match
from matching.services import (
    match_accept,
    match_approve,
    match_attest_no_conflict,
    match_decline,
    match_offer,
    match_propose,
)
from matching.tasks import lifecycle
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db

LIFECYCLE_TASKS = [
    lifecycle.offer_notify,
    lifecycle.offer_remind,
    lifecycle.offers_notify_pending,
    lifecycle.offers_remind_due,
    lifecycle.offers_expire_overdue,
]


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """Tasks that tasks enqueue run at once, in this process; nothing goes to the broker."""
    for task in (lifecycle.offer_notify, lifecycle.offer_remind):
        monkeypatch.setattr(task, "delay", lambda pk, task=task: task.apply([pk]))


def offer(attorney, coord, case=None) -> Match:
    case = case or CaseRequestFactory()
    match = match_propose(case=case, attorney=attorney, score=500, breakdown={"priority": 500})
    match = match_approve(match=match, actor=coord)
    return match_offer(match=match, actor=coord)


def expiring_in(match, delta) -> None:
    Match.objects.filter(pk=match.pk).update(expires_at=timezone.now() + delta)


def count_events(match, verb) -> int:
    return DomainEvent.objects.filter(verb=verb, target_id=str(match.pk)).count()


def mail_parts(mail) -> str:
    return "\n".join([mail.subject, mail.body, *(content for content, _ in mail.alternatives)])


# The new-offer email


def test_it_emails_a_new_offer_to_the_attorney(att_a, coord, mailoutbox, settings):
    settings.SITE_URL = "https://match.example.org"
    match = offer(att_a, coord)
    assert lifecycle.offer_notify.apply([match.pk]).get() is True
    [mail] = mailoutbox
    assert mail.to == [att_a.user.email]
    assert match.case.reference in mail.subject
    assert f"https://match.example.org/attorney/offers/{match.pk}/" in mail.body
    assert mail.alternatives[0][1] == "text/html"
    assert count_events(match, "match.offer_notified") == 1


def test_it_puts_only_the_non_identifying_summary_in_the_offer_email(  # SEC-15, SEC-23
    att_a, coord, mailoutbox
):
    # The case model has no name column yet; a summary written carelessly stands in for one.
    case = CaseRequestFactory(summary="Maria Lopez Garcia, A-123-456-789, fears return.")
    match = offer(att_a, coord, case)
    lifecycle.offer_notify.apply([match.pk])
    context = services.offer_email_context(match)
    assert set(context) == {"offer", "case", "offer_url"}  # the offer stage's record, no more
    text = mail_parts(mailoutbox[0])
    for secret in ("Maria", "Lopez", "123-456-789", "fears return"):
        assert secret not in text
    assert "Spanish" in text and "Asylum" in text


def test_it_sends_the_offer_email_once_when_the_task_runs_twice(att_a, coord, mailoutbox):
    match = offer(att_a, coord)
    results = [lifecycle.offer_notify.apply([match.pk]).get() for _ in range(2)]
    assert results == [True, False]
    assert len(mailoutbox) == 1
    assert count_events(match, "match.offer_notified") == 1


def test_it_sends_no_offer_email_once_the_offer_is_answered(att_a, coord, mailoutbox):
    match = offer(att_a, coord)
    match_decline(match=match, user=att_a.user, reason="no_capacity")
    assert lifecycle.offer_notify.apply([match.pk]).get() is False
    assert mailoutbox == []


def test_it_sends_no_offer_email_for_a_match_that_is_gone(mailoutbox):
    assert lifecycle.offer_notify.apply([987654]).get() is False
    assert mailoutbox == []


def test_it_sends_the_offer_email_the_broker_lost(att_a, coord, mailoutbox):  # REL-2
    match = offer(att_a, coord)  # its on-commit hook never runs here: as if the broker lost it
    Match.objects.filter(pk=match.pk).update(offered_at=timezone.now() - timedelta(minutes=20))
    assert [lifecycle.offers_notify_pending.apply().get() for _ in range(2)] == [1, 0]
    assert len(mailoutbox) == 1
    assert count_events(match, "match.offer_notified") == 1


def test_it_leaves_a_fresh_offer_to_its_own_email(att_a, coord, mailoutbox):
    offer(att_a, coord)
    assert lifecycle.offers_notify_pending.apply().get() == 0
    assert mailoutbox == []


# Reminders


def test_it_reminds_the_attorney_of_an_offer_expiring_soon(att_a, coord, mailoutbox, settings):
    settings.MATCH_OFFER_REMINDER_HOURS = 24
    match = offer(att_a, coord)
    expiring_in(match, timedelta(hours=3))
    assert lifecycle.offers_remind_due.apply().get() == 1
    [mail] = mailoutbox
    assert mail.subject.startswith(f"Reminder: case offer {match.case.reference}")
    assert f"/attorney/offers/{match.pk}/" in mail.body
    assert count_events(match, "match.reminded") == 1


def test_it_reminds_each_offer_once(att_a, coord, mailoutbox):
    match = offer(att_a, coord)
    expiring_in(match, timedelta(hours=3))
    assert [lifecycle.offers_remind_due.apply().get() for _ in range(2)] == [1, 0]
    assert len(mailoutbox) == 1
    assert count_events(match, "match.reminded") == 1


def test_it_sends_one_reminder_when_a_queued_one_runs_late(att_a, coord, mailoutbox):
    match = offer(att_a, coord)
    expiring_in(match, timedelta(hours=3))
    lifecycle.offers_remind_due.apply()
    assert lifecycle.offer_remind.apply([match.pk]).get() is False  # a duplicate delivery
    assert len(mailoutbox) == 1


def test_it_does_not_remind_an_offer_far_from_its_deadline(att_a, coord, mailoutbox, settings):
    settings.MATCH_OFFER_REMINDER_HOURS = 24
    match = offer(att_a, coord)
    expiring_in(match, timedelta(hours=30))
    assert lifecycle.offers_remind_due.apply().get() == 0
    assert mailoutbox == []


def test_it_does_not_remind_an_offer_already_overdue(att_a, coord, mailoutbox):
    match = offer(att_a, coord)
    expiring_in(match, -timedelta(minutes=5))
    assert lifecycle.offers_remind_due.apply().get() == 0
    assert mailoutbox == []


def test_it_does_not_remind_an_accepted_offer(att_a, coord, mailoutbox):
    match = match_attest_no_conflict(match=offer(att_a, coord), user=att_a.user)
    match_accept(match=match, user=att_a.user)
    expiring_in(match, timedelta(hours=3))
    assert lifecycle.offers_remind_due.apply().get() == 0
    assert mailoutbox == []


# Expiry


def test_it_expires_overdue_offers_on_the_beat(att_a, att_b, coord):
    overdue = [offer(att_a, coord), offer(att_b, coord)]
    current = offer(att_a, coord)
    for match in overdue:
        expiring_in(match, -timedelta(minutes=1))
    assert lifecycle.offers_expire_overdue.apply().get() == 2
    statuses = dict(Match.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in [*overdue, current]] == ["expired", "expired", "offered"]
    att_a.refresh_from_db()
    att_b.refresh_from_db()
    assert (att_a.active_cases, att_b.active_cases) == (1, 0)


def test_it_expires_an_offer_once_when_the_beat_runs_twice(att_a, coord):
    match = offer(att_a, coord)
    expiring_in(match, -timedelta(minutes=1))
    assert [lifecycle.offers_expire_overdue.apply().get() for _ in range(2)] == [1, 0]
    assert count_events(match, "match.expired") == 1
    att_a.refresh_from_db()
    match.case.refresh_from_db()
    assert (att_a.active_cases, match.case.status) == (0, "open")


# Retry policy and schedule


@pytest.fixture
def attempts(monkeypatch):
    """Makes the notify service fail with the error given to `fail_with`; counts the calls."""
    calls: list[int] = []

    def fail_with(error):
        def failing(*, match_id):
            calls.append(match_id)
            raise error

        monkeypatch.setattr(services, "match_offer_notify", failing)
        return calls

    return fail_with


def test_it_retries_a_transient_database_error_three_times_then_gives_up(attempts):  # REL-6
    calls = attempts(OperationalError("server closed the connection unexpectedly"))
    result = lifecycle.offer_notify.apply([1])
    assert result.failed()
    assert len(calls) == 4  # the first try and max_retries=3


def test_it_does_not_retry_a_permanent_error(attempts):  # REL-6
    calls = attempts(IntegrityError("a bug, not a blip"))
    assert lifecycle.offer_notify.apply([1]).failed()
    assert len(calls) == 1


@pytest.mark.parametrize("task", LIFECYCLE_TASKS, ids=lambda task: task.name)
def test_it_bounds_retries_below_the_visibility_timeout(task):  # REL-6
    assert task.max_retries == 3
    assert set(task.autoretry_for) == {OperationalError, lifecycle.InterfaceError}
    assert task.retry_backoff_max < django_settings.CELERY_VISIBILITY_TIMEOUT


@pytest.mark.parametrize(
    "name",
    [
        "matching.offers_expire_overdue",
        "matching.offers_remind_due",
        "matching.offers_notify_pending",
    ],
)
def test_it_runs_the_lifecycle_sweeps_every_fifteen_minutes(name):
    [entry] = [entry for entry in app.conf.beat_schedule.values() if entry["task"] == name]
    assert entry["schedule"] == 15 * 60
    assert entry["options"]["expires"] < entry["schedule"]


@pytest.mark.worker
def test_it_notifies_through_a_real_broker_and_worker(  # REL-1
    celery_worker_queue, att_a, coord, monkeypatch
):
    task = lifecycle.offer_notify
    monkeypatch.setattr(task, "delay", lambda pk: task.apply_async([pk], queue=celery_worker_queue))
    match = offer(att_a, coord)  # commits: the on-commit hook enqueues to the worker's queue
    deadline = time.monotonic() + 60
    while count_events(match, "match.offer_notified") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count_events(match, "match.offer_notified") == 1
