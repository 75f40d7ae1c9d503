"""The partner intake form sent four times at the same instant (a double click, retries): one
request, with or without an A-number (PostgreSQL: the token's unique index decides)."""

import uuid

import pytest
from django.db import connection

from cases.models import CaseRequest
from cases.services import case_request_create_by_coordinator, case_request_submit_by_partner
from core.models import DomainEvent
from tests.cases.conftest import case_data
from tests.races import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent inserts"),
]


@pytest.mark.parametrize("a_number", ["", "A-055-444-333"], ids=["no A-number", "A-number"])
def test_four_posts_with_one_token_at_once_record_one_request(partner_x, a_number):
    organization, token = partner_x.partner_membership.organization, uuid.uuid4()

    def submit():
        return case_request_submit_by_partner(
            data=case_data(a_number=a_number), created_by=partner_x,
            organization=organization, submission_token=token,
        )  # fmt: skip

    results = race(*[submit] * 4)
    case = CaseRequest.objects.get()
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert {found.pk for found, _ in results} == {case.pk}
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1


@pytest.mark.parametrize("a_number", ["", "A-055-444-333"], ids=["no A-number", "A-number"])
def test_the_admin_add_form_sent_four_times_at_once_records_one_request(coord, a_number):
    token = uuid.uuid4()

    def submit():
        return case_request_create_by_coordinator(
            data=case_data(a_number=a_number), created_by=coord, submission_token=token
        )

    results = race(*[submit] * 4)
    case = CaseRequest.objects.get()
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert {found.pk for found, _ in results} == {case.pk}
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1
