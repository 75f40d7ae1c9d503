"""The coordinator's day in headless Chromium (issue: daily work, items 1, 2, 3 and 5).

A coordinator signs in, reads the home page's queues, opens the review queue from it (the columns
fit beside the filters at 1280 px), opens a match, approves it and offers it from its own page,
then opens a case's page in a browser whose time zone differs from the server's and finds no
time-zone note under the date-only inputs. Screenshots go to test-artifacts/e2e/coordinator-home/.
"""

import pytest
from django.db import connections
from django.utils import timezone

from matching.models import Match
from matching.services import match_propose
from tests.e2e.test_attorney_journey import ARTIFACTS
from tests.e2e.test_coordinator_journey import BREAKDOWN, admin_sign_in
from tests.factories import AttorneyFactory, CaseRequestFactory

SHOTS = ARTIFACTS / "coordinator-home"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def test_a_coordinator_works_from_the_home_page_to_an_offer(
    browser,
    live_server,
    coord,
):
    AttorneyFactory.create_batch(2, verification="pending")
    matches = [
        match_propose(
            case=CaseRequestFactory(detained=True, next_hearing_date=timezone.localdate()),
            attorney=AttorneyFactory(languages={"eng": 4, "spa": 4}),
            score=900 - i,
            breakdown=BREAKDOWN,
        )
        for i in range(3)
    ]
    try:
        widths, notes = _walk(browser, live_server.url, coord, matches[0])
    finally:
        connections.close_all()
    scroll_width, client_width = widths
    assert scroll_width <= client_width, f"the queue scrolls sideways: {widths}"
    assert notes == 0, "a date-only input carries a time-zone note"
    statuses = sorted(Match.objects.values_list("status", flat=True))
    assert statuses == [Match.Status.OFFERED, Match.Status.PROPOSED, Match.Status.PROPOSED]


def _walk(chromium, base: str, coord, first: Match) -> tuple[list[int], int]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # A browser eight hours from the server's zone: the admin adds its notes only on a mismatch.
    context = chromium.new_context(viewport=DESKTOP, timezone_id="Asia/Singapore")
    page = context.new_page()
    admin_sign_in(page, base, coord)

    page.goto(f"{base}/admin/")
    page.wait_for_selector("text=Today's work")
    worklist = " ".join(page.inner_text("#worklist").split())
    assert "2 attorneys awaiting verification" in worklist
    assert "3 proposals awaiting review" in worklist
    page.screenshot(path=SHOTS / "01-home-1280.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SHOTS / "02-home-390.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    page.click("text=proposals awaiting review")
    page.wait_for_selector("#result_list")
    widths = page.evaluate(
        "() => { const r = document.querySelector('#changelist .results');"
        " return [r.scrollWidth, r.clientWidth]; }"
    )
    page.screenshot(path=SHOTS / "03-queue-1280.png", full_page=True)

    page.goto(f"{base}/admin/matching/match/{first.pk}/change/")
    page.wait_for_selector(f"h1:has-text('Match for case {first.case.reference}')")
    page.click("button:has-text('Approve')")
    page.wait_for_selector("text=Match approved.")
    page.click("button:has-text('Offer to the attorney')")
    page.wait_for_selector("text=Match offered.")
    page.screenshot(path=SHOTS / "04-match-offered.png", full_page=True)

    page.goto(f"{base}/admin/cases/caserequest/{first.case.pk}/change/")
    page.wait_for_selector("input.vDateField")
    page.wait_for_load_state("load")
    notes = page.locator(".timezonewarning").count()
    page.screenshot(path=SHOTS / "05-case-dates.png", full_page=True)
    context.close()
    return widths, notes


def test_the_need_dashboard_fits_a_phone(browser, live_server, coord):
    """Found walking a fresh clone at 390 px: the language x court table widened the whole page
    (785 px); wide tables scroll inside their own box, as the outcome tables already did. Then
    the bar chart of free capacity by language (34 px a language, 15 at most): it shrinks."""
    from cases.models import ImmigrationCourt, Language

    for court in ImmigrationCourt.objects.order_by("code")[:10]:
        CaseRequestFactory(court=court)
    spoken = Language.objects.filter(common_rank__isnull=False).order_by("common_rank")[:14]
    AttorneyFactory(languages={language.code: 4 for language in spoken})
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        admin_sign_in(page, live_server.url, coord)
        page.goto(f"{live_server.url}/admin/dashboard/?refresh=1")
        page.wait_for_selector("table.heat")
        page.screenshot(path=SHOTS / "06-dashboard-390.png", full_page=True)
        page_width, heat_box, heat_table, chart_drawn = page.evaluate(
            "() => [document.documentElement.scrollWidth - window.innerWidth,"
            " document.querySelector('table.heat').parentElement.clientWidth,"
            " document.querySelector('table.heat').scrollWidth,"
            " document.querySelector('svg.bars').width.baseVal.value]"
        )
    finally:
        context.close()
        connections.close_all()
    assert page_width <= 0, f"the dashboard scrolls sideways by {page_width} px"
    assert heat_table > heat_box, "ten courts fit in 390 px: the test no longer tests the scroll"
    assert chart_drawn > 390, "fourteen bars fit in 390 px: the test no longer tests the chart"
