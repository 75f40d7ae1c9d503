"""The mentor's reads of a shared case (mentoring.selectors), below the pages (SEC-15).

Both the fetch and the record refuse a share whose mentor has not attested yet: the pages test
the pair (tests/mentoring/test_views.py); each one alone is tested here.
"""

import pytest
from django.http import Http404

from mentoring import selectors
from mentoring.services import case_share
from tests.mentoring.people import accepted_case, mentee_create, mentor_create, mentorship_accepted

pytestmark = pytest.mark.django_db


@pytest.fixture
def share(coord):
    mentorship = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    match = accepted_case(attorney=mentorship.mentee, coordinator=coord)
    return case_share(match=match, user=mentorship.mentee.user)


def test_the_attested_fetch_refuses_a_share_before_the_conflict_check(share):
    mentor = share.mentorship.mentor.user
    with pytest.raises(Http404):
        selectors.share_attested_get_for_mentor(user=mentor, share_id=share.pk)


def test_the_record_refuses_a_share_before_the_conflict_check(share):
    with pytest.raises(Http404):
        selectors.shared_record(share=share)
