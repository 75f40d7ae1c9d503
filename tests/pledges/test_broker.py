"""REL-2 against a real Redis that is stopped and restarted.

A private redis-server on port 6390 (never the shared one on 6379, which other tests use): the
broker is stopped, a pledge is submitted, the broker comes back, the sweeper re-enqueues, and the
confirmation email goes out exactly once however many times the task is delivered.
"""

import logging
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.core import mail
from django.urls import reverse

from pledges import tasks
from pledges.models import Pledge
from tests.pledges.helpers import form_data, fresh_cache  # noqa: F401

PORT = 6390
URL = f"redis://127.0.0.1:{PORT}/0"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.timeout(90),
    pytest.mark.skipif(
        not shutil.which("redis-server"), reason="redis-server is not on PATH: REL-2 needs one"
    ),
]


def _redis_start():
    subprocess.run(
        ["redis-server", "--port", str(PORT), "--daemonize", "yes", "--save", "",
         "--appendonly", "no"],
        check=True, capture_output=True,
    )  # fmt: skip
    for _ in range(50):
        if _redis_cli("ping").stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def _redis_stop():
    _redis_cli("shutdown", "nosave")
    for _ in range(50):
        if _redis_cli("ping").returncode != 0:
            return
        time.sleep(0.1)


def _redis_cli(*args):
    return subprocess.run(
        ["redis-cli", "-p", str(PORT), *args], capture_output=True, text=True, check=False
    )


def _broker_reset():
    """Forget pooled connections so the next publish connects to the current broker_url."""
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture
def private_broker():
    _redis_start()
    conf = current_app.conf
    before = {name: conf.get(name) for name in ("broker_url", "broker_write_url")}
    conf.update(broker_url=URL, broker_write_url=URL)
    _broker_reset()
    yield
    conf.update(**before)
    _broker_reset()
    _redis_stop()


def _deliver_all() -> int:
    """Act as the worker: take each queued message and run its task. Returns how many."""
    delivered = 0
    with current_app.connection_for_write(URL) as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(timeout=1)
            except queue.Empty:
                break
            args, kwargs, _ = message.decode()
            current_app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs)
            message.ack()
            delivered += 1
        queue.close()
    return delivered


@pytest.mark.usefixtures("fresh_cache")
def test_a_pledge_made_while_the_broker_is_down_is_confirmed_once_it_is_back(  # REL-2
    client,
    private_broker,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    _redis_stop()
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pledges:new"), form_data())
    assert response.status_code == 302  # the request still succeeds…
    assert time.monotonic() - started < 5  # …quickly
    pledge = Pledge.objects.get()
    assert pledge.confirmation_sent_at is None  # saved as pending notification
    assert "not enqueued" in caplog.text
    assert "robin@" not in caplog.text and "Robin" not in caplog.text  # SEC-23
    assert mail.outbox == []

    _redis_start()
    _broker_reset()
    monkeypatch.setattr(tasks, "PLEDGE_NOTIFY_GRACE", timedelta(0))
    assert tasks.pledge_confirmations_sweep() == 1
    assert tasks.pledge_confirmations_sweep() == 1  # swept twice before the worker ran
    assert _deliver_all() == 2
    assert len(mail.outbox) == 1  # delivered exactly once
    assert mail.outbox[0].to == ["robin@hudsonpine.example"]
    pledge.refresh_from_db()
    assert pledge.confirmation_sent_at is not None
    assert tasks.pledge_confirmations_sweep() == 0  # nothing left pending
