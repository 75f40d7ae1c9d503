"""The pledge confirmation email: publishing it, sending it once, and the sweeper (REL-2).

Thin tasks: primary keys in, one service call (STYLE 8). This module imports the services,
never the reverse: the services send `pledge_confirmation_due` after commit, and
PledgesConfig.ready connects it to `pledge_confirmation_enqueue_on_signal` below.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.emails import email_send
from pledges.selectors import pledges_confirmation_unsent
from pledges.services import CONFIRM_SALT, MANAGE_SALT, pledge_confirmation_send, pledge_token
from volunteers.tasks import site_link

log = logging.getLogger(__name__)

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 5}
# The sweeper leaves a pledge alone this long after submission: its first task may still be in
# flight. Beat runs the sweeper every 10 minutes (config/celery.py).
PLEDGE_NOTIFY_GRACE = timedelta(minutes=5)


def _pledge_email(pledge) -> None:
    context = {
        "pledge": pledge,
        "confirm_url": site_link("pledges:confirm", pledge_token(pledge=pledge, salt=CONFIRM_SALT)),
        "manage_url": site_link("pledges:manage", pledge_token(pledge=pledge, salt=MANAGE_SALT)),
    }
    email_send(to=[pledge.contact_email], template="pledge_confirm", context=context)


@shared_task(name="pledges.pledge_confirmation_email", **_RETRY)
def pledge_confirmation_email_task(pledge_id: int) -> bool:
    """Send the confirmation link once, however many times the task is delivered."""
    return pledge_confirmation_send(pledge_id=pledge_id, send=_pledge_email)


def pledge_confirmation_enqueue(*, pledge_id: int) -> bool:
    """Publish the email task; a broker outage is logged, not raised (REL-2).

    The request that submitted the pledge must still succeed: the row keeps
    confirmation_sent_at empty, and the sweeper enqueues it again once the broker is back.
    """
    try:
        with pledge_confirmation_email_task.app.connection_for_write() as connection:
            # One quick attempt: the user is waiting, and the sweeper retries later.
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            pledge_confirmation_email_task.apply_async(
                args=[pledge_id], connection=connection, retry=False
            )
    except (BrokerError, OSError) as error:
        log.warning(
            "Pledge %s: confirmation email not enqueued (%s); the sweeper will retry.",
            pledge_id,
            type(error).__name__,
        )
        return False
    return True


def pledge_confirmation_enqueue_on_signal(sender, *, pledge_id: int, **kwargs) -> None:
    """Receiver of pledges.signals.pledge_confirmation_due (sent after commit)."""
    pledge_confirmation_enqueue(pledge_id=pledge_id)


@shared_task(name="pledges.pledge_confirmations_sweep")
def pledge_confirmations_sweep() -> int:
    """Beat sweeper: re-enqueue confirmation emails the broker lost or refused (REL-2)."""
    pending = pledges_confirmation_unsent(created_before=timezone.now() - PLEDGE_NOTIFY_GRACE)
    return sum(pledge_confirmation_enqueue(pledge_id=pk) for pk in pending)
