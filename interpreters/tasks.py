"""Thin tasks (STYLE 8): primary keys in, one service call."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from interpreters.services import team_run, team_search_again, team_unfilled_notify

logger = logging.getLogger(__name__)
# Database errors are transient: three tries, 5 s apart and more, far below the broker's
# visibility timeout (the team run and the search again).
DATABASE_RETRY = {
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 5,
}


@shared_task(name="interpreters.team_run", **DATABASE_RETRY)
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


@shared_task(name="interpreters.team_search_again", **DATABASE_RETRY)
def search_again(match_id: int, user_id: int | None = None) -> int | None:
    """Search again for an interpreter for a team left without one (the admin's action). Ids
    only; the service does nothing for a team that has one meanwhile, so a retry is safe.
    Returns the new assignment's id, or None."""
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    found = team_search_again(match_id=match_id, actor=actor)
    return found.pk if found is not None else None


def unfilled_notify_enqueue_on_signal(sender, *, match_id: int, **kwargs) -> None:
    """Receiver of interpreters.signals.team_unfilled (sent after commit). A broker outage is
    logged, not raised: the decline stands, and the attorney's offer page says the team waits
    for an interpreter."""
    try:
        unfilled_notify.delay(match_id)
    except (BrokerError, OSError) as error:
        logger.warning("Match %s: unfilled team not notified (%s).", match_id, type(error).__name__)
