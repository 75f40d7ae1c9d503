"""Forms double-clicked in Chromium write one row, and the user lands where one click leads:
the hours form on an accepted case and the partner's new case request (the server tests prove
a resend of the same POST; these prove the pages send their token)."""

import pytest
from django.db import connections

from cases.models import CaseRequest
from tests.e2e.test_attorney_journey import Journey
from tests.e2e.test_pledge_journey import _sign_in
from tests.factories import OrganizationFactory, partner_user
from tests.volunteers.offers import offer_create
from volunteers.models import CaseHours

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_hours_double_clicked_are_logged_once(browser, live_server, att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    journey = Journey(browser, live_server.url)
    try:
        _sign_in(journey, att_a.user)
        page = journey.page
        journey.go(f"/attorney/cases/{match.pk}/")
        page.fill("#id_hours", "3")
        page.dblclick("form[data-form=hours] button[type=submit]")
        page.wait_for_selector("[data-hours-total='3.0'], [data-hours-total='6.0']")
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/attorney/cases/{match.pk}/")
        assert page.locator("[data-hours-total]").get_attribute("data-hours-total") == "3.0"
        assert CaseHours.objects.count() == 1
        assert journey.problems == []
    finally:
        journey.context.close()
        connections.close_all()  # see the attorney journey: the ORM's connection in this thread


def test_a_partner_request_double_clicked_is_recorded_once(browser, live_server):
    """The intake form, refused first (a 400 page, scanned like every page), then sent with a
    double click: one request, and the partner lands on it."""
    partner = partner_user(organization=OrganizationFactory())
    journey = Journey(browser, live_server.url)
    try:
        _sign_in(journey, partner)
        page = journey.page
        journey.go("/intake/new/")
        page.fill("#id_respondent_name", "Rosa Example")
        page.fill("#id_language_code", "zzz")  # no such language: refused by the server
        page.select_option("#id_court", index=1)
        page.select_option("#id_case_type", index=1)
        page.click("input[type=submit][name=save]")
        assert page.locator(".invalid-feedback").count() > 0
        assert not CaseRequest.objects.exists()
        page.fill("#id_language_code", "mam")
        page.dblclick("input[type=submit][name=save]")
        page.wait_for_url("**/intake/PBM-*/")
        page.wait_for_load_state("load")
        case = CaseRequest.objects.get()
        assert page.url.endswith(f"/intake/{case.reference}/")
        assert CaseRequest.objects.count() == 1
    finally:
        journey.context.close()
        connections.close_all()
