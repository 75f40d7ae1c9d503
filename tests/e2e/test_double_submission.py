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


def _hours_on_an_accepted_case(browser, live_server, att_a, coord):
    """The attorney, signed in, on the page of a case they accepted, 3 hours typed in the
    hours form: (match, journey)."""
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    journey = Journey(browser, live_server.url)
    _sign_in(journey, att_a.user)
    journey.go(f"/attorney/cases/{match.pk}/")
    journey.page.fill("#id_hours", "3")
    return match, journey


def test_hours_double_clicked_are_logged_once(browser, live_server, att_a, coord):
    match, journey = _hours_on_an_accepted_case(browser, live_server, att_a, coord)
    try:
        page = journey.page
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


def _on_the_intake_form(browser, live_server):
    """A partner's staff member, signed in, on the new request page: the journey."""
    journey = Journey(browser, live_server.url)
    _sign_in(journey, partner_user(organization=OrganizationFactory()))
    journey.go("/intake/new/")
    return journey


def _fill_request(page, *, language="mam"):
    page.fill("#id_respondent_name", "Rosa Example")
    page.fill("#id_language_code", language)
    page.select_option("#id_court", index=1)
    page.select_option("#id_case_type", index=1)


def test_a_partner_request_double_clicked_is_recorded_once(browser, live_server):
    """The intake form, refused first (the form again, scanned like every page), then sent with a
    double click: one request, and the partner lands on it."""
    journey = _on_the_intake_form(browser, live_server)
    try:
        page = journey.page
        _fill_request(page, language="zzz")  # no such language: refused by the server
        page.click("input[type=submit][name=save]")
        assert page.locator(".invalid-feedback").count() > 0
        assert not CaseRequest.objects.exists()
        assert journey.problems == []  # the form again is a 200: no console error
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


def _asked(journey, name) -> str:
    """The page that asks about a form sent again after Back: shot at the phone's width and the
    desktop's; its HTML."""
    page = journey.page
    page.wait_for_selector("#id_again")
    journey.shot(f"{name}-asked-again-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    journey.shot(f"{name}-asked-again-desktop")
    return page.content()


def test_hours_sent_again_after_back_are_asked_about_then_logged_when_ticked(
    browser, live_server, att_a, coord
):
    """Back, then Send: the page is never cached, so it comes with a new token; the same hours
    for the same day are asked about (the form again, scanned), and logged once ticked."""
    _, journey = _hours_on_an_accepted_case(browser, live_server, att_a, coord)
    try:
        page = journey.page
        page.click("form[data-form=hours] button[type=submit]")
        page.wait_for_selector("[data-hours-total='3.0']")
        page.go_back()
        page.wait_for_load_state("load")
        page.fill("#id_hours", "3")
        page.click("form[data-form=hours] button[type=submit]")
        assert "These are more hours" in _asked(journey, "hours")
        assert CaseHours.objects.count() == 1
        page.check("#id_again")
        page.click("form[data-form=hours] button[type=submit]")
        page.wait_for_selector("[data-hours-total='6.0']")
        assert CaseHours.objects.count() == 2
        # The question is the form again (200): the console reports nothing.
        assert journey.problems == []
    finally:
        journey.context.close()
        connections.close_all()


def test_a_partner_request_sent_again_after_back_is_asked_about_then_recorded_when_ticked(
    browser, live_server
):
    """Without an A-number, Back then Send (a new token): the same person's request is asked
    about (the form again, scanned), nothing recorded; ticked, it is recorded."""
    journey = _on_the_intake_form(browser, live_server)
    try:
        page = journey.page
        _fill_request(page)
        page.click("input[type=submit][name=save]")
        page.wait_for_url("**/intake/PBM-*/")
        first = CaseRequest.objects.get()
        page.go_back()
        page.wait_for_load_state("load")
        _fill_request(page)  # what Chromium restores, typed again if it did not
        page.click("input[type=submit][name=save]")
        asked = _asked(journey, "request")
        assert f"as {first.reference}. If this is a different person" in asked
        assert CaseRequest.objects.count() == 1
        page.check("#id_again")
        page.click("input[type=submit][name=save]")
        page.wait_for_url("**/intake/PBM-*/")
        assert not page.url.endswith(f"/intake/{first.reference}/")
        assert CaseRequest.objects.count() == 2
        assert journey.problems == []
    finally:
        journey.context.close()
        connections.close_all()
