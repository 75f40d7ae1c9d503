"""Thin tasks (STYLE 8): no arguments with personal data, one service call each."""

from celery import shared_task

from cases.services import case_request_recompute_priorities


@shared_task(name="cases.recompute_priorities", ignore_result=True)
def recompute_priorities() -> int:
    """Daily: hearing dates come closer and cases wait longer, so priorities drift overnight."""
    return case_request_recompute_priorities()
