from celery import shared_task

from cases.models import ImmigrationCourt
from core.staff_enrollment import staff_enrollment_send


@shared_task(name="core.ping")
def ping(token: str) -> dict:
    """Round-trip check through broker, worker, database and result backend."""
    return {"token": token, "courts": ImmigrationCourt.objects.count()}


@shared_task(name="core.refresh_need_dashboard", acks_late=True)
def refresh_need_dashboard() -> str:
    """Recompute the need dashboard's figures so no coordinator waits for them (dashboard.py)."""
    # Imported here: staff_security imports this module for the enrollment mail, and the
    # dashboard's selectors would then load in every process that loads the admin.
    from core.dashboard import dashboard_figures

    _, computed_at = dashboard_figures(refresh=True)
    return computed_at.isoformat()


@shared_task(
    name="core.staff_enrollment_email", autoretry_for=(OSError,), retry_backoff=30, max_retries=5
)
def staff_enrollment_email(user_id: int) -> None:
    """The authenticator set-up link for staff who signed in with a right password but have none
    yet (core.staff_security). The token is made here, never carried in the task's arguments."""
    staff_enrollment_send(user_id=user_id)
