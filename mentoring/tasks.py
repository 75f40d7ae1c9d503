"""Thin tasks (STYLE 8): ids only, one service call each."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from mentoring.services import mentoring_run, mentorship_offer_notify

logger = logging.getLogger(__name__)


@shared_task(
    name="mentoring.run",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=5,
)
def run() -> int:
    """Daily: pair waiting mentees with mentors; coordinators review the proposals."""
    return mentoring_run().proposals


# Mail errors are transient; backoff 30, 60, … 480 s stays far below the visibility timeout.
@shared_task(
    name="mentoring.offer_notify",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def offer_notify(mentorship_id: int) -> bool:
    return mentorship_offer_notify(mentorship_id=mentorship_id)


def offer_notify_on_signal(sender, *, mentorship_id: int, **kwargs) -> None:
    """Receiver of mentoring.signals.mentorship_offered (already after commit). A broker
    outage leaves the offer on the mentor's dashboard; only the email is lost."""
    try:
        offer_notify.delay(mentorship_id)
    except BrokerError:
        logger.warning("mentoring offer email not queued (broker down): %s", mentorship_id)
