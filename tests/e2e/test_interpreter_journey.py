"""A K'iche' case goes to an attorney + interpreter team, in headless Chromium (issue 16 #4).

No attorney in range speaks K'iche': a coordinator runs the team stage, which proposes a
Spanish-speaking attorney with a K'iche'-Spanish interpreter, and offers the attorney's match.
Neither sees an identifier before their conflict check, the attorney cannot accept before the
interpreter has, and the record opens to the interpreter only once both accepted.
Screenshots at 1280 and 390 px go to test-artifacts/e2e/interpreters/.
"""

import pytest
from django.db import connections

from cases.models import CaseRequest
from matching.models import Match
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_coordinator_journey import admin_sign_in
from tests.e2e.test_mentoring_journey import Visitor
from tests.interpreters.people import (
    english_attorney,
    interpreter_create,
    kiche_case,
    spanish_attorney,
    team_offered,
)
from tests.volunteers.offers import RESPONDENT_NAME, identifiers_in, shown_a_number

SHOTS = ARTIFACTS / "interpreters"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


class Shots(Visitor):
    def shots(self, name):
        for width in (1280, 390):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(
                path=SHOTS / f"{name}-{width}.png", full_page=True, timeout=120_000
            )
        self.page.set_viewport_size({"width": 1280, "height": 900})


def test_a_kiche_case_is_offered_to_an_attorney_and_interpreter_team(browser, live_server, coord):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = kiche_case()
    english_attorney()
    attorney = spanish_attorney(user__first_name="Sofia", user__last_name="Abogada")
    interpreter = interpreter_create(coordinator=coord)
    try:
        problems = _journey(browser, live_server.url, coord, case, attorney, interpreter)
    finally:
        connections.close_all()
    assert [p for p in problems if "Content Security Policy" in p] == []
    assert CaseRequest.objects.get(pk=case.pk).status == "represented"


def _journey(browser, base, coord, case, attorney, interpreter):
    # 1. The coordinator runs the team stage and offers the attorney's match.
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin_sign_in(staff, base, coord)
    staff.goto(base + "/admin/interpreters/teaminterpreter/")
    staff.click("text=Run interpreter teams")
    staff.wait_for_selector("ul.messagelist")
    assert "1 team(s) proposed" in staff.inner_text("ul.messagelist")
    staff.screenshot(path=SHOTS / "01-admin-teams-1280.png", full_page=True, timeout=120_000)
    for action, done in (("approve_selected", "1 approved"), ("offer_selected", "1 offered")):
        staff.goto(base + "/admin/matching/match/?status=all")
        staff.check("#action-toggle")
        staff.select_option("select[name=action]", action)
        staff.click("button[name=index]")
        staff.wait_for_selector(f"text={done}")
    staff.goto(base + "/admin/dashboard/?refresh=1")
    assert "Interpreters: the missing piece" in staff.content()
    staff.screenshot(path=SHOTS / "02-need-dashboard-1280.png", full_page=True, timeout=120_000)
    match = Match.objects.get(case=case)
    assert match.attorney_id == attorney.pk

    # 2. The attorney: the offer names the team, no identifier; the check; accept must wait.
    lawyer = Shots(browser, base, attorney.user)
    lawyer.go(f"/attorney/offers/{match.pk}/")
    assert "You can accept once the interpreter has accepted" in lawyer.page.content()
    assert identifiers_in(lawyer.page.content(), case) == {}
    lawyer.shots("03-attorney-team-offer")
    lawyer.page.click("text=See party names to check conflicts")
    lawyer.page.click("text=I have no conflict of interest")
    lawyer.page.click("text=Accept this case")
    assert "has not accepted yet" in lawyer.page.content()
    assert Match.objects.get(pk=match.pk).status == "offered"

    # 3. The interpreter: dashboard, offer without identifiers, the names, then accept.
    voice = Shots(browser, base, interpreter.user, lands="**/interpreter/")
    voice.shots("04-interpreter-dashboard")
    voice.page.click("text=Review team offer")
    assert identifiers_in(voice.page.content(), case) == {}
    voice.shots("05-interpreter-offer")
    voice.page.click("text=See party names to check conflicts")
    assert RESPONDENT_NAME in voice.page.content()
    assert shown_a_number(match) not in voice.page.content()
    voice.shots("06-interpreter-conflict-check")
    voice.page.click("text=I have no conflict of interest")
    voice.page.click("text=Accept and interpret")
    assert "Waiting for the attorney" in voice.page.content()
    assert identifiers_in(voice.page.content(), case) == {}

    # 4. The attorney accepts now; the record opens to both.
    lawyer.go(f"/attorney/offers/{match.pk}/")
    lawyer.page.click("text=Accept this case")
    lawyer.page.wait_for_url("**/attorney/cases/*/")
    assert shown_a_number(match) in lawyer.page.content()
    voice.go("/interpreter/")
    voice.page.click(f"text={case.reference}")
    voice.page.wait_for_url("**/interpreter/cases/*/")
    assert shown_a_number(match) in voice.page.content()
    voice.shots("07-interpreter-record")
    voice.go("/interpreter/profile/")
    voice.shots("08-interpreter-profile")
    voice.go("/interpreter/join/")
    voice.shots("09-interpreter-join")
    return lawyer.problems + voice.problems


def test_an_interpreter_who_declines_is_replaced_and_the_attorney_accepts(
    browser, live_server, coord, celery_eager, mailoutbox
):
    """The team's interpreter declines: another takes their place at once, the attorney's offer
    says so, and the attorney accepts once the new interpreter has."""
    match, first = _team_offer(coord, mailoutbox)
    second = interpreter_create(coordinator=coord, email="tomas@example.org", first_name="Tomás")
    try:
        problems = _replacement_journey(browser, live_server.url, match, first, second)
    finally:
        connections.close_all()
    assert [p for p in problems if "Content Security Policy" in p] == []
    assert CaseRequest.objects.get(pk=match.case_id).status == "represented"
    assert mailoutbox == []  # the team was whole again at once: nobody was alarmed


def _replacement_journey(browser, base, match, first, second):
    # 1. The first interpreter declines from their offer page.
    quitter = _declines(browser, base, first)
    assert "Declined" in quitter.page.content()

    # 2. The attorney's offer names the replacement; accepting still waits for them.
    lawyer = Shots(browser, base, match.attorney.user)
    lawyer.go(f"/attorney/offers/{match.pk}/")
    note = lawyer.page.inner_text("[data-section=team]")
    assert "had to decline" in note and "Tomás Interpreter" in note
    lawyer.shots("10-attorney-replacement-offer")
    lawyer.page.click("text=See party names to check conflicts")
    lawyer.page.click("text=I have no conflict of interest")
    lawyer.page.click("text=Accept this case")
    assert "has not accepted yet" in lawyer.page.content()

    # 3. The replacement finds the offer on their dashboard and accepts.
    voice = Shots(browser, base, second.user, lands="**/interpreter/")
    voice.page.click("text=Review team offer")
    voice.page.click("text=See party names to check conflicts")
    voice.page.click("text=I have no conflict of interest")
    voice.page.click("text=Accept and interpret")
    assert "Waiting for the attorney" in voice.page.content()

    # 4. The attorney accepts now.
    lawyer.go(f"/attorney/offers/{match.pk}/")
    assert "The interpreter has accepted" in lawyer.page.content()
    lawyer.page.click("text=Accept this case")
    lawyer.page.wait_for_url("**/attorney/cases/*/")
    return quitter.problems + lawyer.problems + voice.problems


def test_with_no_interpreter_left_the_attorney_and_coordinators_are_told(
    browser, live_server, coord, celery_eager, mailoutbox
):
    match, first = _team_offer(coord, mailoutbox)
    attorney = match.attorney
    try:
        quitter = _declines(browser, live_server.url, first)
        lawyer = Shots(browser, live_server.url, attorney.user)
        lawyer.go(f"/attorney/offers/{match.pk}/")
        note = lawyer.page.inner_text("[data-section=team]")
        lawyer.shots("11-attorney-unfilled-offer")
        problems = quitter.problems + lawyer.problems
    finally:
        connections.close_all()
    assert "no other interpreter is free yet" in note
    assert [p for p in problems if "Content Security Policy" in p] == []
    assert sorted(m.to[0] for m in mailoutbox) == sorted([coord.email, attorney.user.email])
    assert Match.objects.get(pk=match.pk).status == "offered"


def _team_offer(coord, mailoutbox):
    """A K'iche' team offered to Sofia (Spanish) with Ixchel interpreting: (match, Ixchel)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    attorney = spanish_attorney(user__first_name="Sofia", user__last_name="Abogada")
    first = interpreter_create(coordinator=coord, email="ixchel@example.org")
    match = team_offered(case=kiche_case(), attorney=attorney, interpreter=first, coordinator=coord)
    mailoutbox.clear()  # the offer's own email
    return match, first


def _declines(browser, base, interpreter):
    """The interpreter signs in and declines the team offer on their dashboard."""
    visitor = Shots(browser, base, interpreter.user, lands="**/interpreter/")
    visitor.page.click("text=Review team offer")
    visitor.page.click("button:has-text('Decline')")
    visitor.page.wait_for_url("**/interpreter/")
    return visitor
