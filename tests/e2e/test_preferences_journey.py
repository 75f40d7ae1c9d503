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


def test_an_offer_bounded_by_the_monthly_limit_says_so(browser, live_server, coord):
    """The attorney's offer (and the coordinator's match page, same words) names the monthly
    limit when it, not the capacity, bounded how many cases the run gave them."""
    from matching.models import Match
    from matching.pipeline.run import matching_run
    from matching.services import match_approve, match_offer
    from tests.factories import MatchFactory

    SHOTS.mkdir(parents=True, exist_ok=True)
    attorney = AttorneyFactory(user__first_name="Ana", capacity=5, languages={"spa": 4})
    AttorneyProfile.objects.filter(pk=attorney.pk).update(monthly_offer_cap=2)
    MatchFactory(attorney=attorney, status=Match.Status.DECLINED, decline_reason="no_capacity")
    for _ in range(3):
        CaseRequestFactory(language_id="spa")
    match = Match.objects.get(run=matching_run(trigger="test"))
    match_offer(match=match_approve(match=match, actor=coord), actor=coord)
    try:
        visitor = Shooter(browser, live_server.url, attorney.user)
        visitor.go(f"/attorney/offers/{match.pk}/")
        why = visitor.page.inner_text("[data-section=why]")
        visitor.shots("offer-monthly-limit")
    finally:
        connections.close_all()
    assert "Your monthly limit of 2 new cases left room for 1 more this month" in why
