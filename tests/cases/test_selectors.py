"""The case reads behind the admin and the partner pages (cases.selectors)."""

import pytest

from cases.selectors import case_requests_by_a_number
from tests.cases.conftest import A_NUMBER

pytestmark = pytest.mark.django_db


def test_the_a_number_lookup_finds_the_case_for_identifier_viewers(coord_viewer, case_x):
    assert list(case_requests_by_a_number(user=coord_viewer, term=A_NUMBER)) == [case_x]


def test_the_a_number_lookup_answers_nothing_without_the_permission(coord, case_x):  # SEC-23
    # A hit would tell whose case an A-number is: the selector refuses, whoever calls it.
    assert case_requests_by_a_number(user=coord, term=A_NUMBER) is None
