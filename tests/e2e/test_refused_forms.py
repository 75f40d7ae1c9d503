"""A refused form, on a phone, shows its first problem (static/js/form-errors.js), in headless
Chromium, and is the page again with a 200: no error in the browser's console. The page comes
back at its top; without the script the preferences step's error (under a long list of case
types) and the offer's decline box were a screen or more below, and nothing in view said the
form had been refused. Every page is scanned by axe (conftest); screenshots go to
test-artifacts/e2e/refused/.
"""

import pytest
from django.db import connections

from pledges.models import Pledge
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_mentoring_journey import Visitor
from tests.e2e.test_pledge_journey import _fill as pledge_fill
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
    assert visitor.problems == []  # the refused forms come back with 200: no console error


def test_a_refused_form_is_a_200_page_with_its_errors_and_no_console_error(browser, live_server):
    """Chromium logs every 4xx document as a console error ("Failed to load resource"): a
    refused form answers 200, the page again with its errors shown and nothing written."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor = Visitor(browser, live_server.url)
    page = visitor.page
    documents: list[int] = []
    page.on(
        "response",
        lambda r: r.request.resource_type == "document" and documents.append(r.status),
    )
    try:
        visitor.go("/pledges/new/")
        pledge_fill(page)  # an amount of 0: refused by the server (the form is novalidate)
        page.click("main form[data-form=pledge] button[type=submit]")
        page.wait_for_selector("#error-summary")
        page.screenshot(path=SHOTS / "pledge-refused-1280.png")
        assert documents == [200, 200]
        assert page.is_visible("#error-summary") and page.is_visible("#id_amount.is-invalid")
        assert "greater than or equal to 1" in page.inner_text("#error-summary")
        assert page.input_value("#id_organization_name") == "Harbor Immigrant Defenders"
        assert not Pledge.objects.exists()
    finally:
        connections.close_all()
    assert visitor.problems == [], visitor.problems
