"""Status check-in tasks (matching/checkins.py): ids in, one service call, a count out.

Idempotent: the services claim the rows they e-mail under a lock and stamp them, so a task run
twice (``acks_late``) sends nothing the second time.
"""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from matching import checkins, selectors
from matching.tasks.lifecycle import RETRY_POLICY

# A request younger than this may still have its e-mail in flight; the sweep leaves it alone.
NOTIFY_GRACE = timedelta(minutes=10)


@shared_task(name="matching.status_requests_notify", **RETRY_POLICY)
def status_requests_notify(attorney_id: int) -> int:
    """One e-mail to the attorney listing their new status requests."""
    return checkins.status_requests_notify(attorney_id=attorney_id)


def status_requests_notify_enqueue(attorney_id: int) -> None:
    """Publish the e-mail (matching.followups calls this after the requests commit)."""
    status_requests_notify.delay(attorney_id)


@shared_task(name="matching.status_requests_remind", **RETRY_POLICY)
def status_requests_remind(attorney_id: int) -> int:
    return checkins.status_requests_remind(attorney_id=attorney_id)


@shared_task(name="matching.status_requests_remind_due", **RETRY_POLICY)
def status_requests_remind_due() -> int:
    """Beat: one reminder task per attorney due, and the e-mails the broker lost (REL-2)."""
    lost = selectors.attorneys_not_notified(created_before=timezone.now() - NOTIFY_GRACE)
    for attorney_id in lost:
        status_requests_notify.delay(attorney_id)
    due = selectors.attorneys_due_for_reminder()
    for attorney_id in due:
        status_requests_remind.delay(attorney_id)
    return len(due)


@shared_task(name="matching.status_requests_monthly", **RETRY_POLICY)
def status_requests_monthly() -> int:
    """Beat, monthly: ask about accepted cases with no update in 60 days."""
    return checkins.status_requests_monthly().created
