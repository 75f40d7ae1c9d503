"""The Celery app. Tasks live in each app's tasks.py and take primary keys only."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pro_bono_match")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # JSON only: a pickle payload from a compromised broker would be code execution.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    # A task is acknowledged after it ran, and a worker that dies mid-task gives it back, so a
    # killed worker loses nothing (REL-3). Tasks must therefore be idempotent.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # What a task prints is logged at INFO, not WARNING: in `make run` that is every email
    # (core.console_email), and an email is not a warning.
    worker_redirect_stdouts_level="INFO",
    # Periodic work, in code so that it is reviewed like code. Matching, offer expiry and the
    # sweeper join here in their own issues.
    beat_schedule={
        # Matching every five minutes; the run is single-flight, so a slow one makes the next
        # skip rather than pile up, and each message expires before the next is due.
        "matching-run": {
            "task": "matching.run_matching",
            "schedule": 5 * 60,
            "kwargs": {"trigger": "schedule"},
            "options": {"expires": 4 * 60},
        },
        # The need dashboard's figures (a full pass over the cases): recomputed in the background
        # so the page never waits for them (core.dashboard.FIGURES_REFRESH_SECONDS).
        "need-dashboard-refresh": {
            "task": "core.refresh_need_dashboard",
            "schedule": 120,
            "options": {"expires": 110},
        },
        # Offers past their deadline go back to the pool; each beat message expires before the
        # next one is due, so a stopped worker does not find a backlog of identical sweeps.
        "match-offers-expire-overdue": {
            "task": "matching.offers_expire_overdue",
            "schedule": 15 * 60,
            "options": {"expires": 14 * 60},
        },
        # Reminders before an offer expires (sent once per offer: the event log remembers).
        "match-offers-remind-due": {
            "task": "matching.offers_remind_due",
            "schedule": 15 * 60,
            "options": {"expires": 14 * 60},
        },
        # Sweeper: new-offer emails the broker lost or refused are enqueued again (REL-2).
        "match-offers-notify-pending": {
            "task": "matching.offers_notify_pending",
            "schedule": 15 * 60,
            "options": {"expires": 14 * 60},
        },
        # Mentor matching (issue 16 #3): pairs waiting mentees daily; coordinators review them.
        "mentoring-run": {
            "task": "mentoring.run",
            "schedule": 24 * 60 * 60,
            "options": {"expires": 23 * 60 * 60},
        },
        # Status check-ins (issue 16): reminders once, e-mails the broker lost (hourly), and
        # the monthly check-in of accepted cases with no update in 60 days (the 1st, 06:00).
        "status-requests-remind-due": {
            "task": "matching.status_requests_remind_due",
            "schedule": 60 * 60,
            "options": {"expires": 55 * 60},
        },
        "status-requests-monthly": {
            "task": "matching.status_requests_monthly",
            "schedule": crontab(day_of_month=1, hour=6, minute=0),
            "options": {"expires": 6 * 3600},
        },
        # Interpreter teams (issue 16 #4): the second stage, for what the main runs left open.
        "interpreter-team-run": {
            "task": "interpreters.team_run",
            "schedule": 30 * 60,
            "options": {"expires": 29 * 60},
        },
        # Sweeper: pledge confirmation emails the broker lost or refused (REL-2).
        "pledge-confirmations-sweep": {
            "task": "pledges.pledge_confirmations_sweep",
            "schedule": 10 * 60,
            "options": {"expires": 9 * 60},
        },
        # The weekly digest of new needs to attorneys (volunteers.digest), Monday morning
        # (TIME_ZONE); the chunks it fans out claim their attorneys, so a rerun sends nothing.
        "attorney-digests-send": {
            "task": "volunteers.digests_send",
            "schedule": crontab(day_of_week="mon", hour=9, minute=0),
            "options": {"expires": 6 * 3600},
        },
        # Retention (SEC-25): finished cases past CASE_RETENTION_DAYS are anonymised nightly,
        # and the small run's list of other-language cells loses the cells left empty.
        "cases-purge-closed": {
            "task": "cases.purge_closed_cases",
            "schedule": crontab(hour=3, minute=45),
            "options": {"expires": 6 * 3600},
        },
        # Case imports: unconfirmed uploads deleted after IMPORT_PREVIEW_TTL_HOURS, and checks or
        # imports whose task was lost enqueued again (cases/tasks.py, REL-2).
        "cases-imports-sweep": {
            "task": "cases.imports_sweep",
            "schedule": 5 * 60,
            "options": {"expires": 4 * 60},
        },
        # Case priorities drift as hearings approach and cases wait: recompute every night
        # (cases/services.py case_request_recompute_priorities; idempotent, writes only changes).
        "cases-recompute-priorities": {
            "task": "cases.recompute_priorities",
            "schedule": crontab(hour=3, minute=15),
            "options": {"expires": 6 * 3600},
        },
    },
)
app.autodiscover_tasks()
