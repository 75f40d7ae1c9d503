"""Thin tasks (STYLE 8): no arguments, one service call."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from interpreters.services import team_run


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
