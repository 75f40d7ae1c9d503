"""Each test starts with an empty cache (tests/conftest.py).

Counters kept in the cache (refused access per user id, rate limits) are not rolled back with a
test's transaction, while on SQLite the ids of its rows are: a count left by one test would pass
to the next test's user with the same id, whose first refusal is then not recorded. The two
tests run in this order; the id is fixed, so that the second fails without the reset on
PostgreSQL too, where ids are not handed out again.
"""

import pytest

from core.services import access_refused_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REUSED_ID = 900_001


def _first_refusal_of_user(pk):
    return access_refused_record(actor=UserFactory(pk=pk), kind="cases.caserequest")


def test_a_refusal_leaves_a_count_for_its_users_id():
    assert _first_refusal_of_user(REUSED_ID) is not None


def test_a_later_tests_user_with_that_id_starts_from_zero():
    assert _first_refusal_of_user(REUSED_ID) is not None
