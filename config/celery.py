"""The Celery app. Tasks live in each app's tasks.py and take primary keys only."""

import os

from celery import Celery

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
    timezone=os.environ.get("TIME_ZONE", "America/New_York"),
    # Periodic work, in code so that it is reviewed like code. Matching, offer expiry and the
    # sweeper join here in their own issues.
    beat_schedule={},
)
app.autodiscover_tasks()
