"""The coordinator's back office in headless Chromium (issue 6).

A coordinator signs in to the admin with password and TOTP code, filters the review queue to one
language, bulk-approves it, opens a match and reads why it was made, then opens the need
dashboard. Screenshots go to test-artifacts/e2e/coordinator/.
"""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.db import connections

from matching.models import Match
from matching.services import match_propose
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.factories import AttorneyFactory, CaseRequestFactory

SHOTS = ARTIFACTS / "coordinator"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
BREAKDOWN = {
    "affinity": {"language": 400, "distance": 150, "experience": 60, "miles": 8.2},
    "priority": {"stored": 300, "detention": 100, "hearing": 200, "deadline": 0, "waiting": 0},
    "explanation": ["Speaks Portuguese natively", "8 miles from the court"],
}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def test_a_coordinator_reviews_the_queue_and_reads_the_dashboard(
    browser,
    live_server,
    coord,
):
    portuguese = [_proposed("por") for _ in range(3)]
    spanish = _proposed("spa")
    try:
        problems = _walk(browser, live_server.url, coord)
    finally:
        connections.close_all()
    assert not problems, problems  # no CSP violation, no script error
    statuses = {m.pk: m.status for m in Match.objects.all()}
    assert all(statuses[m.pk] == Match.Status.APPROVED for m in portuguese)
    assert statuses[spanish.pk] == Match.Status.PROPOSED


def _proposed(language: str) -> Match:
    attorney = AttorneyFactory(languages={"eng": 4, language: 4})
    case = CaseRequestFactory(language_id=language)
    return match_propose(case=case, attorney=attorney, score=900, breakdown=BREAKDOWN)


def _walk(chromium, base: str, coord) -> list[str]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    # Console errors (CSP violations, script errors) and failed requests, bar the favicon.
    page.on("console", lambda m: _console(problems, m))
    page.on("response", lambda r: _response(problems, r))

    admin_sign_in(page, base, coord)

    page.goto(f"{base}/admin/matching/match/?language=por")
    page.screenshot(path=SHOTS / "01-queue-portuguese.png", full_page=True)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    assert "3 approved" in page.inner_text("ul.messagelist")
    page.screenshot(path=SHOTS / "02-approved.png", full_page=True)

    page.goto(f"{base}/admin/matching/match/?status=all&language=por")
    page.click("#result_list tbody tr:first-child th a, #result_list tbody tr:first-child td a")
    page.wait_for_selector("text=Why this attorney")
    assert "Speaks Portuguese natively" in page.content()
    page.screenshot(path=SHOTS / "03-match-detail.png", full_page=True)

    page.goto(f"{base}/admin/dashboard/")
    page.wait_for_selector("text=Unmatched cases by language and court")
    page.screenshot(path=SHOTS / "04-dashboard.png", full_page=True)
    context.close()
    return problems


SECONDS_TO_SEND_A_CODE = 5  # a browser fills three fields and posts within this, even on a busy CI


def admin_sign_in(page, base: str, user) -> None:
    """The staff login: e-mail, password and the authenticator's current code."""
    page.goto(f"{base}/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp", _code(user))
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _console(problems: list[str], message) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)


def _response(problems: list[str], response) -> None:
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        problems.append(f"{response.status} {response.url}")


def _code(user) -> str:
    """The authenticator's current code, from a 30-second step with time left to type and send
    it: a code read in a step's last seconds reaches the server in the next one, where it is
    refused (no tolerance), and the sign-in would fail for the clock, not for the app."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    left = 30 - time.time() % 30
    if left < SECONDS_TO_SEND_A_CODE:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
