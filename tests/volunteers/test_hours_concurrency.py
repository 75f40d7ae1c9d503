"""The hours form sent four times at the same instant (a double click, retries): one entry."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.models import DomainEvent
from tests.races import race, race_held
from tests.volunteers.test_case_hours import _accept
from volunteers import services
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


def test_two_entries_for_one_day_at_once_never_pass_24_hours(att_a, coord):
    """The attorney's row lock: the second entry waits for the first and sees its hours (the
    day's total check), instead of the total as it was before both."""
    match = _accept(att_a, coord)
    day = timezone.localdate()

    def log(hours):
        return lambda: case_hours_log(
            match=match, user=att_a.user, hours=Decimal(hours), worked_on=day,
            submission_token=uuid.uuid4(),
        )  # fmt: skip

    first, second = race_held(log(14), log(13), hold=(services, "event_record"))
    assert isinstance(first, tuple) and getattr(second, "code", None) == "day_full"
    assert [entry.hours for entry in CaseHours.objects.all()] == [Decimal(14)]
