"""The attorney's whole journey in headless Chromium (issue 3).

Sign up, follow the verification link from the sent mail, fill the profile, get verified by a
coordinator, see an offer without identifying data, check conflicts, accept, see the full
record; a second attorney gets 404 on that case. Screenshots of each step go to
test-artifacts/e2e/ (git-ignored). Needs Debian's `chromium` (installed by .ci/run).
"""

import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connections

from tests.volunteers.offers import (
    CONTACT,
    RESPONDENT_NAME,
    identifiers_in,
    offer_create,
    shown_a_number,
)
from volunteers.models import AttorneyProfile
from volunteers.services import attorney_verify

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "a long passphrase for court"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


class Journey:
    """A page plus the CSP violations and errors it reported."""

    def __init__(self, browser, base_url):
        # A phone-sized window: attorneys answer offers from court hallways.
        self.context = browser.new_context(viewport={"width": 414, "height": 860})
        self.page = self.context.new_page()
        self.base = base_url
        self.problems = []
        self.page.on("console", self._console)
        self.shots = 0

    def _console(self, message):
        if message.type == "error":
            self.problems.append(message.text)

    def go(self, path):
        return self.page.goto(self.base + path)

    def shot(self, name):
        self.shots += 1
        self.page.screenshot(path=ARTIFACTS / f"{self.shots:02d}-{name}.png", full_page=True)


def _confirmation_path():
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", body).group(1)


def _fill_profile(journey):
    page = journey.page
    page.fill("#id_first_name", "Ana")
    page.fill("#id_last_name", "Lawyer")
    page.fill("#id_phone", "212-555-0100")
    page.fill("#id_home_zip", "99999")  # not a ZIP: the form says so, nothing breaks
    page.click("main form button[type=submit] >> nth=0")
    assert "not a known US ZIP code" in page.content()
    journey.shot("profile-unknown-zip")
    page.fill("#id_home_zip", "10001")
    page.click("main form button[type=submit] >> nth=0")

    page.fill("#id_new_organization", "Hudson Immigrant Defense")
    journey.shot("profile-organization")
    page.click("main form button[type=submit] >> nth=0")

    page.select_option("#id_bar-0-jurisdiction", "NY")
    page.fill("#id_bar-0-bar_number", "5551234")
    page.select_option("#id_bar-0-status", "active")
    page.click("main form button[type=submit] >> nth=0")

    # The search box (static JS) finds a language that the plain select does not list.
    page.fill("input[type=search] >> nth=0", "Kanjobal")
    page.wait_for_selector("#id_lang-0-language option[value=kjb]", state="attached")
    page.select_option("#id_lang-0-language", "kjb")
    page.select_option("#id_lang-0-proficiency", "3")
    page.select_option("#id_lang-1-language", "spa")
    page.select_option("#id_lang-1-proficiency", "4")
    journey.shot("profile-languages")
    page.click("main form button[type=submit] >> nth=0")

    page.check("#id_take_asylum")
    page.fill("#id_handled_asylum", "6")
    page.fill("#id_years_experience", "8")
    page.click("main form button[type=submit] >> nth=0")

    page.get_by_label("In person near me, and remote work is welcome").check()
    journey.shot("profile-preferences")
    page.click("main form button[type=submit] >> nth=0")

    page.fill("#id_capacity", "0")
    page.click("main form button[type=submit] >> nth=0")
    assert "is-invalid" in page.content()
    page.fill("#id_capacity", "2")
    journey.shot("profile-capacity")
    page.click("main form button[type=submit] >> nth=0")


def test_an_attorney_signs_up_is_verified_and_accepts_a_case(browser, live_server, coord, att_b):
    try:
        _walk(browser, live_server, coord, att_b)
    finally:
        # ORM calls made while Playwright runs use their own connection (another context):
        # close it, or the test database cannot be dropped at the end of the run.
        connections.close_all()


def _walk(browser, live_server, coord, att_b):
    journey = Journey(browser, live_server.url)
    page = journey.page

    journey.go("/accounts/signup/")
    page.fill("input[name=email]", "ana.lawyer@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    journey.shot("signup")
    page.click("form.auth-form button[type=submit]")
    assert "/accounts/confirm-email/" in page.url
    journey.shot("verification-sent")

    journey.go(_confirmation_path())
    journey.shot("confirm-email")
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/attorney/profile/about/")
    _fill_profile(journey)

    page.wait_for_url("**/attorney/")
    assert 'data-state="pending"' in page.content()
    journey.shot("dashboard-pending")

    attorney = AttorneyProfile.objects.get(user__email="ana.lawyer@example.org")
    assert attorney.language_skills.filter(language="kjb").exists()
    attorney_verify(attorney=attorney, actor=coord)
    match = offer_create(attorney=attorney, coordinator=coord, detained=True)

    page.reload()
    journey.shot("dashboard-offer")
    page.click("text=Review offer")
    html = page.content()
    assert "Asylum" in html and "New York City" in html and "Why you were matched" in html
    assert identifiers_in(html, match.case) == {}  # SEC-15
    journey.shot("offer-summary")

    page.click("text=See party names to check conflicts")
    assert set(identifiers_in(page.content(), match.case)) == {"name"}
    journey.shot("conflict-check")
    page.click("text=I have no conflict of interest")
    page.click("text=Accept this case")
    page.wait_for_url(f"**/attorney/cases/{match.pk}/")
    html = page.content()
    assert RESPONDENT_NAME in html and shown_a_number(match) in html and CONTACT in html
    journey.shot("full-record")

    # The Back button and the e-mailed offer link lead to the case, not to "No such offer".
    page.go_back()
    page.reload()
    page.wait_for_url(f"**/attorney/cases/{match.pk}/")
    assert journey.go(f"/attorney/offers/{match.pk}/").status == 200
    assert page.url.endswith(f"/attorney/cases/{match.pk}/")

    # TOTP is there for attorneys who want it; setting it up asks for the password again.
    journey.go("/accounts/2fa/totp/activate/")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    assert page.locator("img[src^='data:image']").count() == 1  # the QR code
    journey.shot("totp-setup")

    # Another verified attorney, signed in through the same login page, gets a 404.
    EmailAddress.objects.create(
        user=att_b.user, email=att_b.user.email, verified=True, primary=True
    )
    other = Journey(browser, live_server.url)
    other.shots = journey.shots
    other.go("/accounts/login/")
    other.page.fill("input[name=login]", att_b.user.email)
    other.page.fill("input[name=password]", "correct horse battery staple")
    other.page.click("form.auth-form button[type=submit]")
    other.page.wait_for_url("**/attorney/")
    response = other.go(f"/attorney/cases/{match.pk}/")
    assert response.status == 404
    assert RESPONDENT_NAME not in other.page.content()
    other.shot("other-attorney-404")
    assert other.go(f"/attorney/offers/{match.pk}/").status == 404  # SEC-12

    csp = [p for p in journey.problems + other.problems if "Content Security Policy" in p]
    assert csp == []
