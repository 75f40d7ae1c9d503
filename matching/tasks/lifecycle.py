"""Match lifecycle tasks: offer notifications, reminders and expiry.

Thin by design: ids in, one service call per match, a count out. Every task is idempotent (the
services claim their work with a lock or a conditional update and record an event), because
`acks_late` may run a task twice.
"""

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from matching import selectors, services

# An offer younger than this may still have its email in flight; the sweeper leaves it alone.
NOTIFY_GRACE = timedelta(minutes=10)

# Retry only what a retry can fix (a database restart, a dropped connection, a deadlock victim),
# at most 3 times, 5 s → 10 s → 20 s (jittered, capped at 5 min): far below the broker's
# 3600 s visibility timeout, so a waiting retry is never redelivered as well (REL-5, REL-6).
RETRY_POLICY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


@shared_task(name="matching.offer_notify", **RETRY_POLICY)
def offer_notify(match_id: int) -> bool:
    """Email the attorney a new offer (enqueued by match_offer after commit)."""
    return services.match_offer_notify(match_id=match_id)


def offer_notify_enqueue(match_id: int) -> None:
    """Publish the new-offer email (matching.followups calls this after the offer commits)."""
    offer_notify.delay(match_id)


@shared_task(name="matching.offer_remind", **RETRY_POLICY)
def offer_remind(match_id: int) -> bool:
    """Remind the attorney of one offer that expires soon."""
    return services.match_offer_remind(match_id=match_id)


@shared_task(name="matching.offers_notify_pending", **RETRY_POLICY)
def offers_notify_pending() -> int:
    """Beat sweeper: re-enqueue new-offer emails the broker lost or refused (REL-2)."""
    pending = selectors.offers_not_notified(offered_before=timezone.now() - NOTIFY_GRACE)
    for match_id in pending:
        offer_notify.delay(match_id)
    return len(pending)


@shared_task(name="matching.offers_remind_due", **RETRY_POLICY)
def offers_remind_due() -> int:
    """Beat: fan out one reminder task per offer due, so one bad address blocks no other."""
    due = selectors.offers_due_for_reminder()
    for match_id in due:
        offer_remind.delay(match_id)
    return len(due)


@shared_task(name="matching.offers_expire_overdue", **RETRY_POLICY)
def offers_expire_overdue() -> int:
    """Beat: expire every overdue offer, each in its own transaction. Returns how many."""
    return sum(services.match_expire(match=match) for match in selectors.offers_overdue())
