"""A coordinator records a case's outcome in the admin, in headless Chromium (gap 3).

The case's page (like the accepted match's) offers "Record the outcome"; a relief granted
without saying which comes back as an error next to the field, nothing written; the corrected
form closes the case.
Screenshots at 1280 and 390 px go to test-artifacts/e2e/coordinator/.
"""

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from cases.models import CaseRequest
from tests.e2e.test_coordinator_journey import SHOTS, _console, _response, admin_sign_in
from tests.factories import AttorneyFactory
from tests.matching.checkins import accepted_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_coordinator_records_the_outcome_of_an_accepted_case(browser, live_server, coord):
    SHOTS.mkdir(parents=True, exist_ok=True)
    match = accepted_case(attorney=AttorneyFactory(), coordinator=coord, days_ago=40)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    page.on("console", lambda m: _console(problems, m))
    page.on("response", lambda r: _response(problems, r))
    try:
        admin_sign_in(page, live_server.url, coord)
        page.goto(f"{live_server.url}/admin/cases/caserequest/{match.case_id}/change/")
        page.click("#case-outcome-link")
        page.wait_for_url(f"**/admin/matching/match/{match.pk}/outcome/")
        page.select_option("#id_outcome", "relief_granted")
        page.fill("#id_outcome_date", (timezone.localdate() - timedelta(days=2)).isoformat())
        page.click("input[type=submit]")
        error = page.inner_text(".form-row.errors")
        _shots(page, "outcome-error")
        page.select_option("#id_relief_type", "asylum")
        page.click("input[type=submit]")
        page.wait_for_url(f"**/admin/matching/match/{match.pk}/change/")
        done = page.inner_text("ul.messagelist")
        _shots(page, "outcome-recorded")
    finally:
        connections.close_all()
    assert "Say which relief was granted." in error
    assert f"Case {match.case.reference} closed: Relief granted (Asylum)." in done
    case = CaseRequest.objects.get(pk=match.case_id)
    assert (case.status, case.outcome, case.relief_type) == ("closed", "relief_granted", "asylum")
    assert not problems, problems


def _shots(page, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True, timeout=120_000)
    page.set_viewport_size({"width": 1280, "height": 900})
