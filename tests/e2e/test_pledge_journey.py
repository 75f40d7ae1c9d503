"""The pledge journey in headless Chromium (issue 7).

An organization pledges (an error first: nothing typed is lost), follows the confirmation link
from the sent mail, a coordinator approves it, it appears on the wall; an affiliated attorney
accepts a case, logs hours on its page, and the pledge's progress moves. Screenshots go to
test-artifacts/e2e/pledges/.
"""

import pytest
from django.conf import settings
from django.core import mail
from django.db import connections
from django.test import Client

from pledges.models import Pledge
from pledges.services import pledge_approve
from tests.e2e.test_attorney_journey import ARTIFACTS, Journey
from tests.factories import affiliate
from tests.pledges.helpers import eager_tasks, link_from  # noqa: F401
from tests.volunteers.offers import offer_create

SHOTS = ARTIFACTS / "pledges"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


class PledgeJourney(Journey):
    def __init__(self, chromium, base_url):
        super().__init__(chromium, base_url)
        self.failed = []  # (status, url) of every failed request the pages made
        self.page.on("response", self._response)

    def _response(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed.append((response.status, response.url))

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.page.screenshot(path=SHOTS / f"{self.shots:02d}-{name}.png", full_page=True)


def test_a_pledge_is_confirmed_approved_and_progresses_with_placements(
    browser,
    live_server,
    coord,
    att_a,
    eager_tasks,  # noqa: F811
):
    try:
        _walk(PledgeJourney(browser, live_server.url), coord, att_a)
    finally:
        connections.close_all()  # see the attorney journey: the ORM's connection in this thread


def _fill(page):
    page.fill("#id_organization_name", "Harbor Immigrant Defenders")
    page.select_option("#id_organization_kind", "nonprofit")
    page.fill("#id_city", "Newark")
    page.select_option("#id_state", "NJ")
    page.fill("#id_contact_name", "Dana Director")
    page.fill("#id_contact_email", "dana@harbor.example")
    page.select_option("#id_kind", "cases")
    page.fill("#id_amount", "0")  # not allowed: the form says so and keeps the rest
    page.fill("#id_message", "Ready for detained docket cases.")
    page.check("#id_public")


def _sign_in(journey, user):
    """The attorney's own sign-in is proven by the attorney journey: reuse a session here."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    journey.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": journey.base}]
    )


def _walk(journey, coord, att_a):
    from matching.services import match_accept, match_attest_no_conflict

    page = journey.page
    journey.go("/pledges/new/")
    _fill(page)
    page.click("main form[data-form=pledge] button[type=submit]")
    assert page.input_value("#id_organization_name") == "Harbor Immigrant Defenders"
    assert page.input_value("#id_message") == "Ready for detained docket cases."
    journey.shot("form-error-keeps-input")
    page.fill("#id_amount", "4")
    page.click("main form[data-form=pledge] button[type=submit]")
    assert page.url.endswith("/pledges/thanks/")
    journey.shot("thanks")

    journey.go(link_from(mail.outbox[-1], "confirm"))
    page.click("[data-action=confirm]")
    assert page.locator("[data-status]").get_attribute("data-status") == "pending"
    journey.shot("confirmed-awaiting-review")

    pledge = Pledge.objects.get()
    pledge_approve(pledge=pledge, actor=coord)
    journey.go("/pledges/")
    entry = page.locator(f"[data-pledge='{pledge.pk}']")
    assert "Harbor Immigrant Defenders" in entry.inner_text()
    assert entry.locator("[data-progress]").get_attribute("data-progress") == "0"
    journey.shot("wall-approved")

    affiliate(att_a, pledge.organization)
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)

    _sign_in(journey, att_a.user)
    journey.go(f"/attorney/cases/{match.pk}/")
    page.fill("#id_hours", "3")
    page.click("form[data-form=hours] button[type=submit]")
    assert page.locator("[data-hours-total]").get_attribute("data-hours-total") == "3.0"
    journey.shot("case-hours-logged")

    journey.go("/pledges/")
    entry = page.locator(f"[data-pledge='{pledge.pk}']")
    assert entry.locator("[data-progress]").get_attribute("data-progress") == "1"
    assert entry.locator("[data-hours]").get_attribute("data-hours") == "3"
    assert "25% of the pledge" in entry.inner_text()
    journey.shot("wall-progress")
    # No CSP violation on any page (SEC-2), no failed request but the browser's favicon probe:
    # the refused form is the page again with its errors, a 200 as every refused form of the app.
    assert [p for p in journey.problems if "Content Security Policy" in p] == []
    assert journey.failed == []


def test_over_the_limit_the_form_keeps_what_was_typed_and_says_the_wait(
    browser,
    live_server,
    settings,
    eager_tasks,  # noqa: F811
):
    """Issue 12 item 10 (SEC-19): a second pledge within the minute from one address is refused
    with the real wait, and nothing typed is lost; the refused try writes nothing."""
    settings.PLEDGE_RATE_LIMIT_PER_MINUTE = 1
    try:
        journey = PledgeJourney(browser, live_server.url)
        page = journey.page
        for attempt in range(2):
            journey.go("/pledges/new/")
            _fill(page)
            page.fill("#id_amount", "3")
            page.fill("#id_message", f"Attempt {attempt + 1}")
            page.click("main form[data-form=pledge] button[type=submit]")
        text = " ".join(page.inner_text("main").split())
        journey.shot("over-the-limit-keeps-input")
        assert "Too many pledges were sent from your address in the last minute" in text
        assert "Please wait" in text and "second" in text
        assert page.input_value("#id_organization_name") == "Harbor Immigrant Defenders"
        assert page.input_value("#id_message") == "Attempt 2"
        assert Pledge.objects.count() == 1
    finally:
        connections.close_all()
