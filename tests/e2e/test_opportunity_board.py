"""The opportunity board in headless Chromium (issue 13 #1).

A verified attorney opens the board from the menu, filters it, requests a case; a coordinator
approves and offers the request in the review queue (filtered to attorneys' requests); the
attorney checks conflicts, attests, accepts, sees the full record, and puts the case back. A
pending attorney sees no board. Screenshots of the board at 1280 and 390 px go to
test-artifacts/e2e/board/.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connections
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_coordinator_journey import admin_sign_in
from tests.factories import CaseRequestFactory, _court
from tests.volunteers.offers import CONTACT, RESPONDENT_NAME, identifiers_in

SHOTS = ARTIFACTS / "board"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def _cases():
    soon = timezone.localdate() + timedelta(days=9)
    known = {"respondent_name": RESPONDENT_NAME, "contact_route": CONTACT}
    return {
        "spanish": CaseRequestFactory(
            priority=700, **known,
            summary="Fled threats in Honduras; master calendar hearing set.",
        ),
        "english": CaseRequestFactory(
            language_id="eng", priority=400, next_hearing_date=soon, remote_ok=True,
            **known, summary="Asylum claim based on political opinion; individual hearing soon.",
        ),
        "newark": CaseRequestFactory(
            court=_court("newark"), priority=200, detained=True, **known,
            summary="Detained at Elizabeth; bond already denied.",
        ),
    }  # fmt: skip


def _sign_in(browser, base, attorney, width):
    EmailAddress.objects.get_or_create(
        user=attorney.user, email=attorney.user.email, defaults={"verified": True, "primary": True}
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", attorney.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/attorney/")
    return context, page


def test_an_attorney_finds_requests_and_accepts_a_case_from_the_board(
    browser, live_server, coord, att_a, att_new
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    cases = _cases()
    try:
        _attorney_requests(browser, live_server.url, att_a, cases)
        _coordinator_offers(browser, live_server.url, coord)
        _attorney_accepts(browser, live_server.url, att_a, cases["english"])
        _pending_sees_no_board(browser, live_server.url, att_new, cases)
    finally:
        connections.close_all()


def _attorney_requests(browser, base, attorney, cases):
    phone, page = _sign_in(browser, base, attorney, 390)
    page.click("button.navbar-toggler")
    page.click("nav >> text=Opportunities")
    page.wait_for_url("**/attorney/opportunities/")
    html = page.content()
    for case in cases.values():
        assert case.reference in html
        assert identifiers_in(html, case) == {}  # anonymised like an offer (SEC-15)
    page.screenshot(path=SHOTS / "board-390.png", full_page=True)
    phone.close()

    desk, page = _sign_in(browser, base, attorney, 1280)
    page.goto(f"{base}/attorney/opportunities/")
    page.screenshot(path=SHOTS / "board-1280.png", full_page=True)
    page.get_by_label("Language").select_option("eng")
    page.get_by_label("Hearing within (days)").fill("14")
    page.click("text=Show cases")
    page.wait_for_url("**/attorney/opportunities/?*")
    html = page.content()
    assert cases["english"].reference in html
    assert cases["spanish"].reference not in html and cases["newark"].reference not in html
    page.screenshot(path=SHOTS / "board-filtered-1280.png", full_page=True)
    page.click(f"[data-case='{cases['english'].reference}'] >> text=Request this case")
    page.wait_for_selector('[data-section="requested"]')
    assert f"You asked for case {cases['english'].reference}" in page.content()
    page.screenshot(path=SHOTS / "board-requested-1280.png", full_page=True)
    desk.close()
    match = Match.objects.get(case=cases["english"])
    assert (match.status, match.source, match.attorney_id) == ("proposed", "attorney", attorney.pk)


def _coordinator_offers(browser, base, coord):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    admin_sign_in(page, base, coord)
    page.goto(f"{base}/admin/")
    page.click("text=requested by attorneys")
    page.wait_for_selector("#result_list")
    assert "Requested by attorney" in page.content()
    page.screenshot(path=SHOTS / "queue-requested.png", full_page=True)
    for action, status in (("approve_selected", "proposed"), ("offer_selected", "approved")):
        page.goto(f"{base}/admin/matching/match/?status={status}&source__exact=attorney")
        page.check("#action-toggle")
        page.select_option("select[name=action]", action)
        page.click("button[name=index]")
        page.wait_for_selector("ul.messagelist")
    assert "1 offered" in page.inner_text("ul.messagelist")
    context.close()


def _attorney_accepts(browser, base, attorney, case):
    context, page = _sign_in(browser, base, attorney, 1280)
    page.click("text=Review offer")
    page.click("text=See party names to check conflicts")
    page.click("text=I have no conflict of interest")
    page.click("text=Accept this case")
    page.wait_for_url("**/attorney/cases/*/")
    assert RESPONDENT_NAME in page.content()
    assert CaseRequest.objects.get(pk=case.pk).status == CaseRequest.Status.REPRESENTED
    page.get_by_label("Why are you putting this case back?").fill("A conflict came up at my firm.")
    page.click("text=Put the case back")
    page.wait_for_url("**/attorney/")
    assert "You put the case back" in page.content()
    assert CaseRequest.objects.get(pk=case.pk).status == CaseRequest.Status.OPEN
    context.close()


def _pending_sees_no_board(browser, base, attorney, cases):
    context, page = _sign_in(browser, base, attorney, 390)
    page.goto(f"{base}/attorney/opportunities/")
    html = page.content()
    assert 'data-state="board-closed"' in html
    assert all(case.reference not in html for case in cases.values())
    page.screenshot(path=SHOTS / "board-pending-390.png", full_page=True)
    context.close()
