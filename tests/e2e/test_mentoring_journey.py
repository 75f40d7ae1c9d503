"""A first-time attorney gets a mentor, in headless Chromium (issue 16 #3).

The newcomer asks for a mentor; a coordinator runs mentor matching in the admin and approves
the proposal; the experienced attorney accepts it on their dashboard. The mentor sees no case
until the mentee shares one, then the summary without identifiers, the party names for the
conflict check, and the full record only after attesting. Screenshots at 1280 and 390 px go to
test-artifacts/e2e/mentoring/.
"""

import pytest
from allauth.account.models import EmailAddress
from django.db import connections

from mentoring.models import Mentorship
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_coordinator_journey import admin_sign_in
from tests.factories import AttorneyFactory
from tests.mentoring.people import accepted_case, mentor_create
from tests.volunteers.offers import RESPONDENT_NAME, identifiers_in, shown_a_number

SHOTS = ARTIFACTS / "mentoring"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


class Visitor:
    def __init__(self, browser, base, user=None, lands="**/attorney/"):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        if user is not None:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            self.page.goto(base + "/accounts/login/")
            self.page.fill("input[name=login]", user.email)
            self.page.fill("input[name=password]", PASSWORD)
            self.page.click("form.auth-form button[type=submit]")
            self.page.wait_for_url(lands)

    def go(self, path):
        return self.page.goto(self.base + path)

    def shots(self, name):
        """The page at 1280 px and at 390 px (a phone), full height."""
        for width in (1280, 390):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(
                path=SHOTS / f"{name}-{width}.png", full_page=True, timeout=120_000
            )
        self.page.set_viewport_size({"width": 1280, "height": 900})


def test_a_first_time_attorney_gets_a_mentor_who_sees_a_case_only_once_shared(
    browser, live_server, coord
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    mentor = mentor_create(capacity=2)
    mentee = AttorneyFactory(
        years_experience=0, user__first_name="Nora", user__last_name="Newcomer"
    )
    match = accepted_case(attorney=mentee, coordinator=coord)
    try:
        problems = _journey(browser, live_server.url, coord, mentor, mentee, match)
    finally:
        connections.close_all()
    assert [p for p in problems if "Content Security Policy" in p] == []


def _journey(browser, base, coord, mentor, mentee, match):
    # 1. The newcomer asks for a mentor from their dashboard.
    newcomer = Visitor(browser, base, mentee.user)
    newcomer.page.click("text=Ask for a mentor")
    newcomer.page.check("#id_wants_mentor")
    newcomer.page.fill("#id_request_note", "My first asylum merits hearing is in March.")
    newcomer.shots("01-preferences")
    newcomer.page.click("main form button[type=submit]")
    newcomer.page.wait_for_url("**/attorney/")
    assert "You asked for a mentor" in newcomer.page.content()

    # 2. A coordinator runs mentor matching and approves the proposal.
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin_sign_in(staff, base, coord)
    staff.goto(base + "/admin/mentoring/mentorship/")
    staff.click("text=Run mentor matching")
    staff.wait_for_selector("ul.messagelist")
    assert "1 pairing(s) proposed" in staff.inner_text("ul.messagelist")
    staff.screenshot(path=SHOTS / "02-admin-proposed-1280.png", full_page=True, timeout=120_000)
    staff.check("#action-toggle")
    staff.select_option("select[name=action]", "approve_selected")
    staff.click("button[name=index]")
    staff.wait_for_selector("text=1 approved")

    # 3. The mentor accepts on their dashboard.
    helper = Visitor(browser, base, mentor.user)
    helper.page.click("text=Review request from")
    assert "My first asylum merits hearing" in helper.page.content()
    helper.shots("03-mentoring-offer")
    helper.page.click("text=Accept and mentor")
    helper.page.wait_for_url("**/attorney/")
    assert Mentorship.objects.get().status == "accepted"
    assert "No cases shared with you yet" in helper.page.content()
    assert match.case.reference not in helper.page.content()
    helper.shots("04-mentor-dashboard-before-share")

    # 4. The mentee sees their mentor and shares the case.
    newcomer.go("/attorney/")
    assert str(mentor) in newcomer.page.content()
    newcomer.shots("05-mentee-dashboard")
    newcomer.page.click(f"text=Share {match.case.reference} with your mentor")
    newcomer.page.wait_for_url("**/attorney/")
    assert "Cases you shared with your mentor" in newcomer.page.content()

    # 5. The mentor: summary without identifiers, names for the conflict check, then the record.
    helper.go("/attorney/")
    helper.page.click(f"text=Case {match.case.reference}")
    assert identifiers_in(helper.page.content(), match.case) == {}
    helper.shots("06-shared-summary")
    helper.page.click("text=See party names to check conflicts")
    assert RESPONDENT_NAME in helper.page.content()
    assert shown_a_number(match) not in helper.page.content()
    helper.shots("07-shared-conflict-check")
    helper.page.click("text=I have no conflict of interest")
    helper.page.wait_for_url("**/record/")
    assert shown_a_number(match) in helper.page.content()
    helper.shots("08-shared-record")
    return newcomer.problems + helper.problems
