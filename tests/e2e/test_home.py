"""The home page says what to do, in headless Chromium at 1280 px and 390 px: a stranger sees the
button to volunteer as an attorney and the sign-in above the fold, and the pledge link for
organizations; a signed-in attorney or coordinator sees the way to their own page instead. Every
page is scanned by axe (conftest); screenshots go to test-artifacts/e2e/home/.
"""

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tests.e2e.test_attorney_journey import ARTIFACTS

SHOTS = ARTIFACTS / "home"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LANDS = {"attorney": "**/attorney/", "coordinator": "**/admin/"}  # their own page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def _in_view(page, selector) -> bool:
    """Visible without scrolling (above the fold)."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


def _signed_in(browser, base, user, size):
    """A session made by the test client (the sign-in pages are the attorney journey's)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    return context


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_a_stranger_sees_what_to_do_at_once(browser, live_server, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = WIDTHS[width]
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(live_server.url + "/")
        page.screenshot(path=SHOTS / f"signed-out-{width}.png", full_page=True)
        assert _in_view(page, "[data-cta=signup]") and _in_view(page, "[data-cta=login]")
        assert page.is_visible("[data-cta=pledge]")
        page.click("[data-cta=signup]")
        page.wait_for_url("**/accounts/signup/")
        page.go_back()
        page.click("[data-cta=pledge]")
        page.wait_for_url("**/pledges/new/")
    finally:
        context.close()
        connections.close_all()
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
@pytest.mark.parametrize("who", ["attorney", "coordinator"])
def test_a_signed_in_user_sees_the_way_to_their_page(
    browser, live_server, att_a, coord, who, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = att_a.user if who == "attorney" else coord
    context = _signed_in(browser, live_server.url, user, WIDTHS[width])
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.screenshot(path=SHOTS / f"{who}-{width}.png", full_page=True)
        assert _in_view(page, "[data-cta=dashboard]")
        assert page.locator("[data-cta=signup], [data-cta=login]").count() == 0
        page.click("[data-cta=dashboard]")
        page.wait_for_url(LANDS[who])
    finally:
        context.close()
        connections.close_all()
