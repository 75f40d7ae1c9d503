"""The same pledge sent twice at the same instant (a double click): one organization, one pledge."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from pledges.models import Pledge
from pledges.services import PledgeData, pledge_submit
from volunteers.models import Organization

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

DATA = PledgeData(
    organization_name="Double Click LLP", organization_kind="law_firm", city="", state="",
    website="", contact_name="Sam", contact_email="sam@doubleclick.example", contact_phone="",
    kind="hours", amount=100, period_start=date(2026, 1, 1), period_end=date(2027, 1, 1),
    message="", public=True,
)  # fmt: skip


def test_two_identical_submissions_at_once_make_one_pledge(monkeypatch):
    enqueued = []
    monkeypatch.setattr(
        "pledges.tasks.pledge_confirmation_enqueue",
        lambda *, pledge_id: enqueued.append(pledge_id),
    )
    barrier = threading.Barrier(4)
    errors = []

    def submit():
        barrier.wait()
        try:
            pledge_submit(data=DATA)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's: not left to garbage collection

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Organization.objects.filter(name="Double Click LLP").count() == 1
    assert Pledge.objects.count() == 1
    assert enqueued == [Pledge.objects.get().pk]  # one confirmation email
