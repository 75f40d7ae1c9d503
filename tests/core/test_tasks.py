import uuid

import pytest

from cases.models import ImmigrationCourt
from core.tasks import ping


@pytest.mark.smoke
@pytest.mark.worker
def test_a_task_round_trips_through_a_real_broker_and_worker(celery_worker_queue):
    token = uuid.uuid4().hex
    result = ping.apply_async(args=[token], queue=celery_worker_queue)
    # The worker answers with the token and what it read from the test database.
    assert result.get(timeout=90) == {"token": token, "courts": ImmigrationCourt.objects.count()}
    assert ImmigrationCourt.objects.count() == 64


def test_celery_is_configured_for_reliability():  # REL-3, REL-6
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
