"""A refused form, on a phone, shows its first problem (static/js/form-errors.js), in headless
Chromium. The page comes back at its top; without the script the preferences step's error
(under a long list of case types) and the offer's decline box were a screen or more below,
and nothing in view said the form had been refused. Every page is scanned by axe (conftest);
screenshots at 390 px go to test-artifacts/e2e/refused/.
"""

import pytest
from django.db import connections

from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_mentoring_journey import Visitor
from tests.factories import AttorneyFactory
from tests.volunteers.offers import offer_create
from volunteers.models import AttorneyProfile

SHOTS = ARTIFACTS / "refused"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

IN_VIEW = """() => { const r = document.activeElement.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"""


def test_a_refused_form_on_a_phone_shows_its_first_error(browser, live_server, coord):
    SHOTS.mkdir(parents=True, exist_ok=True)
    attorney = AttorneyFactory(user__first_name="Ana")
    match = offer_create(attorney=attorney, coordinator=coord)
    try:
        visitor = Visitor(browser, live_server.url, attorney.user)
        page = visitor.page
        page.set_viewport_size(PHONE)

        visitor.go("/attorney/profile/preferences/")
        page.fill("#id_monthly_offer_cap", "-1")
        page.click("main form button[type=submit] >> nth=0")
        page.wait_for_selector("#id_monthly_offer_cap.is-invalid")
        page.screenshot(path=SHOTS / "preferences-refused-390.png")
        assert page.evaluate("document.activeElement.id") == "id_monthly_offer_cap"
        assert page.evaluate(IN_VIEW), "the refused field is out of view"
        assert AttorneyProfile.objects.get(pk=attorney.pk).monthly_offer_cap is None

        visitor.go(f"/attorney/offers/{match.pk}/")
        page.click("form[action$='/decline/'] button[type=submit]")  # no reason chosen
        page.wait_for_selector("input[name=reason].is-invalid")
        page.screenshot(path=SHOTS / "decline-refused-390.png")
        assert page.evaluate("document.activeElement.name") == "reason"
        assert page.evaluate(IN_VIEW), "the decline box's error is out of view"

        visitor.go("/attorney/profile/preferences/")  # a page shown, not refused: left alone
        assert page.evaluate("document.activeElement.tagName") == "BODY"
        assert page.evaluate("window.scrollY") == 0
    finally:
        connections.close_all()
    match.refresh_from_db()
    assert match.status == "offered"
    assert not visitor.problems or all("400" in p for p in visitor.problems), visitor.problems
