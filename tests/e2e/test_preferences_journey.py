"""An attorney sets their preferences and later stops the weekly digest, in headless Chromium
(issue 13 #2-3). Every page is scanned by axe (conftest); screenshots at 1280 and 390 px go to
test-artifacts/e2e/preferences/.
"""

import pytest
from django.core import mail
from django.db import connections

from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_mentoring_journey import Visitor
from tests.factories import AttorneyFactory, CaseRequestFactory
from volunteers.digest import attorney_digests_send
from volunteers.models import AttorneyProfile, WorkMode

SHOTS = ARTIFACTS / "preferences"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


class Shooter(Visitor):
    def shots(self, name):
        for width in (1280, 390):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})


def test_preferences_then_one_click_unsubscribe_from_the_digest(browser, live_server, settings):
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings.SITE_URL = live_server.url
    attorney = AttorneyFactory(
        user__first_name="Ana", practice_areas=["asylum", "bond", "bia-appeal"]
    )
    try:
        _journey(browser, live_server.url, attorney)
    finally:
        connections.close_all()


def _journey(browser, base, attorney):
    visitor = Shooter(browser, base, attorney.user)
    page = visitor.page
    visitor.go("/attorney/profile/preferences/")
    page.get_by_label("Remote work preferred").check()
    page.locator("#div_id_preferred_types").get_by_label("Asylum / withholding / CAT").check()
    page.locator("#div_id_excluded_types").get_by_label("Bond hearing").check()
    page.get_by_label("No", exact=True).check()
    page.fill("#id_monthly_offer_cap", "3")
    visitor.shots("profile-preferences")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_url("**/attorney/profile/capacity/")
    attorney.refresh_from_db()
    assert attorney.work_mode == WorkMode.REMOTE_PREFERRED and not attorney.detained_ok
    assert attorney.monthly_offer_cap == 3 and attorney.digest_enabled

    # The digest's link, opened signed out (a fresh browser context): confirm, then stop.
    CaseRequestFactory()
    assert attorney_digests_send(attorney_ids=[attorney.pk]) == 1
    link = mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>")
    stranger = Shooter(browser, base)
    stranger.page.goto(link)
    assert "Stop the weekly email" in stranger.page.content()
    stranger.shots("digest-unsubscribe")
    stranger.page.click("main form button[type=submit]")
    assert "You will get no more weekly emails" in stranger.page.content()
    stranger.shots("digest-unsubscribed")
    assert not AttorneyProfile.objects.get(pk=attorney.pk).digest_enabled
