"""Thin tasks (STYLE 8): primary keys in, one service call."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from interpreters.services import team_run, team_unfilled_notify

logger = logging.getLogger(__name__)


@shared_task(
    name="interpreters.team_run",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=5,
)
def run() -> int:
    """The team stage, after the main runs: cases still open in a language no attorney in
    range speaks get an attorney + interpreter team."""
    return team_run().teams


# Mail and database errors are transient; backoff 30, 60, … 480 s stays far below the broker's
# visibility timeout. The service sends once per match, so a retry never mails twice.
@shared_task(
    name="interpreters.team_unfilled_notify",
    ignore_result=True,
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def unfilled_notify(match_id: int) -> int:
    """Tell the coordinators and the attorney that a team has no interpreter left."""
    return team_unfilled_notify(match_id=match_id)


def unfilled_notify_enqueue_on_signal(sender, *, match_id: int, **kwargs) -> None:
    """Receiver of interpreters.signals.team_unfilled (sent after commit). A broker outage is
    logged, not raised: the decline stands, and the attorney's offer page says the team waits
    for an interpreter."""
    try:
        unfilled_notify.delay(match_id)
    except (BrokerError, OSError) as error:
        logger.warning("Match %s: unfilled team not notified (%s).", match_id, type(error).__name__)
