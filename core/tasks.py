from celery import shared_task

from cases.models import ImmigrationCourt


@shared_task(name="core.ping")
def ping(token: str) -> dict:
    """Round-trip check through broker, worker, database and result backend."""
    return {"token": token, "courts": ImmigrationCourt.objects.count()}
