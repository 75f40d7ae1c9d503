"""Thin tasks (STYLE 8): no arguments with personal data, one service call each."""

import logging

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from cases.selectors import case_request_review_alert_recipients
from cases.services import case_request_recompute_priorities
from core.emails import email_send

logger = logging.getLogger(__name__)


@shared_task(name="cases.recompute_priorities", ignore_result=True)
def recompute_priorities() -> int:
    """Daily: hearing dates come closer and cases wait longer, so priorities drift overnight."""
    return case_request_recompute_priorities()


# Mail errors are transient; backoff 30, 60, … 480 s stays far below the visibility timeout.
@shared_task(
    name="cases.review_alert",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def review_alert(case_id: int) -> int:
    """Tell the coordinators a partner's request waits for review (references only: the email
    leaves our systems). Returns the number of coordinators told."""
    case, recipients = case_request_review_alert_recipients(case_id=case_id)
    if case is None or not recipients:
        return 0
    base = settings.SITE_URL.rstrip("/")
    context = {
        "reference": case.reference,
        "duplicate_of": case.duplicate_of.reference if case.duplicate_of_id else "",
        "case_url": base + reverse("admin:cases_caserequest_change", args=[case.pk]),
    }
    email_send(to=recipients, template="case_review", context=context)
    return len(recipients)


def review_alert_enqueue_on_signal(sender, *, case_id: int, **kwargs) -> None:
    """Receiver of cases.signals.case_request_review_due (sent after commit). A broker outage
    is logged, not raised: the partner's request is saved, and the admin lists it for review."""
    try:
        review_alert.delay(case_id)
    except (BrokerError, OSError) as error:
        logger.warning("Case %s: review alert not enqueued (%s).", case_id, type(error).__name__)
