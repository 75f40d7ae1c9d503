"""Status check-ins and outcomes in headless Chromium (issue 16).

A coordinator asks three attorneys for a status update from the match list; one answers through
the e-mailed link (the hearing was continued: the case shows the new date), one from the case
page (closed, asylum granted), the third is reminded and waits on the coordinator home. The
closed case shows on the pledge wall and the need dashboard. Screenshots of the form, the wall
and the dashboard at 1280 and 390 px go to test-artifacts/e2e/followup/.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match, StatusRequest
from matching.tasks.checkins import status_requests_remind_due
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_coordinator_journey import admin_sign_in
from tests.factories import (
    AttorneyFactory,
    CaseRequestFactory,
    MatchFactory,
    OrganizationFactory,
    PledgeFactory,
)
from tests.matching.checkins import accepted_case, mails_to, tokens_in
from volunteers.models import AttorneyProfile, Organization

SHOTS = ARTIFACTS / "followup"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
    pytest.mark.usefixtures("celery_eager"),
]


@pytest.fixture
def cast(coord):
    """Three attorneys with an accepted case each; the second's firm pledged, and its
    attorneys closed five asylum cases before (so the wall's counts are above the threshold)."""
    firm = OrganizationFactory(kind=Organization.Kind.LAW_FIRM, name="Hayes & Lane LLP")
    PledgeFactory(organization=firm, kind="cases", amount=20)
    colleague = AttorneyFactory(organization=firm)
    for _ in range(5):
        case = CaseRequestFactory(
            status="closed", outcome="relief_granted", relief_type="asylum",
            outcome_date=timezone.localdate() - timedelta(days=30),
        )  # fmt: skip
        MatchFactory(case=case, attorney=colleague, status=Match.Status.COMPLETED)
    people = {}
    for name in ("ana", "ben", "cy"):
        attorney = AttorneyFactory(user__username=f"{name}@example.org")
        EmailAddress.objects.create(
            user=attorney.user, email=attorney.user.email, verified=True, primary=True
        )
        people[name] = accepted_case(attorney=attorney, coordinator=coord, days_ago=20)
    AttorneyProfile.objects.filter(pk=people["ben"].attorney_id).update(organization=firm)
    return people


def test_check_ins_from_request_to_outcome_on_the_wall(browser, live_server, coord, cast):
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    # One coordinator session for the whole test: a second sign-in inside the same 30-second
    # window would offer an authenticator code already used, which is refused.
    office, desk = _context(browser, WIDE)
    try:
        admin_sign_in(desk, base, coord)
        _coordinator_asks(desk, base)
        _ana_answers_by_the_link(browser, base, cast["ana"])
        _ben_closes_from_the_case_page(browser, base, cast["ben"])
        _cy_is_reminded(desk, base, cast["cy"])
        _outcome_is_public(browser, desk, base)
    finally:
        office.close()
        connections.close_all()


def _context(browser, viewport):
    context = browser.new_context(viewport=viewport)
    return context, context.new_page()


def _coordinator_asks(page, base):
    page.goto(f"{base}/admin/matching/match/?status=accepted")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "request_status_selected")
    mail.outbox.clear()
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    assert "3 status updates requested from 3 attorneys" in page.inner_text("ul.messagelist")
    page.screenshot(path=SHOTS / "01-coordinator-asked.png", full_page=True)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ana@example.org", "ben@example.org", "cy@example.org",
    ]  # fmt: skip


def _sign_in(page, base, email, next_path):
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def _ana_answers_by_the_link(browser, base, match):
    (message,) = mails_to("ana@example.org")
    (token,) = tokens_in(message)
    link = f"/attorney/status/{token}/"
    context, page = _context(browser, PHONE)
    _sign_in(page, base, "ana@example.org", link)  # the link opens after signing in
    assert match.case.reference in page.content()
    page.screenshot(path=SHOTS / "02-checkin-form-390.png", full_page=True)
    page.set_viewport_size(WIDE)
    page.screenshot(path=SHOTS / "03-checkin-form-1280.png", full_page=True)
    new_date = timezone.localdate() + timedelta(days=45)
    page.check("input[name=answer][value=continued]")
    page.fill("input[name=hearing_date]", new_date.isoformat())
    page.click("text=Send the update")
    page.wait_for_url(f"{base}/attorney/cases/{match.pk}/")
    shown = page.inner_text("main")
    assert new_date.strftime("%-d %b %Y") in shown
    page.screenshot(path=SHOTS / "04-case-new-hearing.png", full_page=True)
    context.close()
    assert CaseRequest.objects.get(pk=match.case_id).next_hearing_date == new_date


def _ben_closes_from_the_case_page(browser, base, match):
    context, page = _context(browser, PHONE)
    _sign_in(page, base, "ben@example.org", f"/attorney/cases/{match.pk}/")
    page.click("text=Give a status update")
    page.wait_for_url(f"{base}/attorney/cases/{match.pk}/status/")
    # A date in the future is refused with a message next to the field; nothing is written.
    page.check("input[name=answer][value=closed]")
    page.select_option("select[name=outcome]", "relief_granted")
    page.select_option("select[name=relief_type]", "asylum")
    page.fill("input[name=outcome_date]", (timezone.localdate() + timedelta(days=3)).isoformat())
    page.click("text=Send the update")
    assert "cannot be in the future" in page.content()
    page.screenshot(path=SHOTS / "05-checkin-error-390.png", full_page=True)
    assert Match.objects.get(pk=match.pk).status == Match.Status.ACCEPTED
    page.check("input[name=answer][value=closed]")
    page.fill("input[name=outcome_date]", timezone.localdate().isoformat())
    page.click("text=Send the update")
    page.wait_for_url(f"{base}/attorney/")
    assert "Case closed: relief granted (Asylum)" in page.content()
    context.close()


def _cy_is_reminded(page, base, match):
    StatusRequest.objects.filter(match=match).update(notified_at=timezone.now() - timedelta(days=8))
    mail.outbox.clear()
    status_requests_remind_due()
    (reminder,) = mail.outbox
    assert reminder.to == ["cy@example.org"] and "Reminder" in reminder.subject
    page.goto(f"{base}/admin/")
    tile = page.inner_text("[data-tile=checkins-unanswered]")
    assert tile == "1"
    page.click("text=unanswered after a reminder")
    page.wait_for_selector("#result_list")
    assert match.case.reference in page.inner_text("#result_list")
    page.screenshot(path=SHOTS / "06-coordinator-reminded.png", full_page=True)


def _outcome_is_public(browser, desk, base):
    cache.clear()  # the wall's counts are cached for five minutes
    for name, viewport in (("1280", WIDE), ("390", PHONE)):
        context, page = _context(browser, viewport)
        page.goto(f"{base}/pledges/")
        section = page.locator("[data-section=outcomes]")
        text = section.inner_text()
        assert "Law firm" in text and "Asylum: 6" in text
        assert "Cases closed: 6" in page.inner_text("main")
        section.screenshot(path=SHOTS / f"07-wall-outcomes-{name}.png")
        context.close()
    page = desk
    page.goto(f"{base}/admin/dashboard/?refresh=1")
    table = page.locator("[data-table=outcomes-by-organization]")
    assert "Hayes & Lane LLP" in table.inner_text()
    page.locator("#outcomes").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "08-dashboard-outcomes-1280.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SHOTS / "09-dashboard-outcomes-390.png", full_page=True)
