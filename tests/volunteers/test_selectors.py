"""The attorney's own reads (volunteers.selectors), below the pages that show them."""

import pytest

from matching.services import match_decline
from tests.volunteers.offers import offer_create
from volunteers import selectors
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("verification", ["pending", "rejected"])
def test_the_dashboard_of_an_attorney_no_longer_verified_holds_no_case(
    att_a, coord, verification
):  # SEC-11: no case data at all, past cases included
    offer_create(attorney=att_a, coordinator=coord)
    declined = offer_create(attorney=att_a, coordinator=coord)
    match_decline(match=declined, user=att_a.user, reason="no_capacity")
    assert len(selectors.attorney_dashboard(attorney=att_a).history) == 1
    AttorneyProfile.objects.filter(pk=att_a.pk).update(verification=verification)
    att_a.refresh_from_db()

    dashboard = selectors.attorney_dashboard(attorney=att_a)

    assert (dashboard.offers, dashboard.cases, dashboard.history) == ([], [], [])
