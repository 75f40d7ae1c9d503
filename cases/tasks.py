"""Thin tasks (STYLE 8): no arguments with personal data, one service call each."""

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from cases import importing, selectors
from cases.models import CaseImport
from cases.other_language_cells import case_other_language_cells_prune
from cases.selectors import case_request_review_alert_recipients
from cases.services import case_request_recompute_priorities, case_requests_purge
from core.emails import email_send

logger = logging.getLogger(__name__)

# Retry only what a retry can fix (a database restart, a dropped connection), 3 times at most,
# with countdowns far below the broker's visibility timeout (REL-5, REL-6).
RETRY_POLICY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}
# A job whose progress has not moved for this long lost its task (a batch takes seconds).
IMPORT_STALLED_AFTER = timedelta(minutes=5)


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
        "duplicate_of": case.duplicate_of.reference if case.duplicate_of is not None else "",
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


@shared_task(name="cases.purge_closed_cases", ignore_result=True, **RETRY_POLICY)
def purge_closed_cases() -> int:
    """Daily: anonymise finished cases past the retention period (SEC-25), then forget the
    cells of cases with other languages that no longer hold a case that is not closed (the
    small run's list, cases.other_language_cells). Both are idempotent, so a retry redoes
    nothing done."""
    purged = case_requests_purge()
    case_other_language_cells_prune()
    return purged


@shared_task(name="cases.import_check", ignore_result=True, **RETRY_POLICY)
def case_import_check(case_import_id: int) -> None:
    """The preview's dry run of an uploaded file (enqueued after the upload commits)."""
    importing.case_import_check(case_import_id=case_import_id)


@shared_task(name="cases.import_run", ignore_result=True, **RETRY_POLICY)
def case_import_run(case_import_id: int) -> None:
    """Import a confirmed file, batch by batch (enqueued after the confirmation commits)."""
    importing.case_import_run(case_import_id=case_import_id)


# Keyed by the status as read from the database (a plain string equal to the member).
STEP_TASKS: dict[str, Any] = {
    CaseImport.Status.CHECKING: case_import_check,
    CaseImport.Status.IMPORTING: case_import_run,
}


@shared_task(name="cases.imports_sweep", ignore_result=True, **RETRY_POLICY)
def case_imports_sweep() -> int:
    """Beat: delete unconfirmed uploads past their time, and enqueue again the jobs whose task the
    broker lost or whose worker died (REL-2). Returns how many were enqueued again."""
    importing.case_imports_expire()
    stalled = selectors.case_imports_stalled(quiet_for=IMPORT_STALLED_AFTER)
    for case_import_id, status in stalled:
        STEP_TASKS[status].delay(case_import_id)
    return len(stalled)
