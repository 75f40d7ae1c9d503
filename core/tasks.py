from celery import shared_task

from cases.models import ImmigrationCourt
from core.dashboard import dashboard_figures


@shared_task(name="core.ping")
def ping(token: str) -> dict:
    """Round-trip check through broker, worker, database and result backend."""
    return {"token": token, "courts": ImmigrationCourt.objects.count()}


@shared_task(name="core.refresh_need_dashboard", acks_late=True)
def refresh_need_dashboard() -> str:
    """Recompute the need dashboard's figures so no coordinator waits for them (dashboard.py)."""
    _, computed_at = dashboard_figures(refresh=True)
    return computed_at.isoformat()
