"""The hours form sent four times at the same instant (a double click, retries): one entry."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.models import DomainEvent
from tests.races import race
from tests.volunteers.test_case_hours import _accept
from volunteers.models import CaseHours
from volunteers.services import case_hours_log

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_four_posts_with_one_token_at_once_log_one_entry(att_a, coord):
    match = _accept(att_a, coord)
    token, day = uuid.uuid4(), timezone.localdate()

    def submit():
        return case_hours_log(
            match=match, user=att_a.user, hours=Decimal(3), worked_on=day, submission_token=token
        )

    results = race(*[submit] * 4)
    entry = CaseHours.objects.get()
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert {found.pk for found, _ in results} == {entry.pk}
    assert DomainEvent.objects.filter(verb="case.hours_logged").count() == 1
