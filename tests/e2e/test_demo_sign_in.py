"""Someone trying `make run` signs in as the demo attorney the banner names, with the password it
shows, and walks the attorney's journey to an accepted case (gap 5). Screenshots at 1280 and
390 px go to test-artifacts/e2e/demo/.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from core.demo_volunteers import demo_volunteers
from matching.models import Match
from tests.e2e.test_attorney_journey import ARTIFACTS

SHOTS = ARTIFACTS / "demo"
WORLD = {"attorneys": 60, "cases": 400, "organizations": 4, "pledges": 2}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_the_banners_demo_attorney_signs_in_and_accepts_the_offer(
    browser, live_server, settings, tmp_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings.VAR_DIR, settings.DEBUG = tmp_path, True  # as under make run
    call_command("seed_demo", stdout=StringIO(), **WORLD)
    out = StringIO()
    call_command("demo_coordinator", stdout=out)  # the banner make run prints
    settings.DEBUG = False  # the pages are served as in the other browser tests
    banner = out.getvalue()
    rows = [line.split() for line in banner.splitlines() if line.strip().startswith("password")]
    password = rows[-1][1]  # the volunteers' line comes after the coordinator's
    email = next(e for role, e in demo_volunteers() if role == "attorney, offer waiting")
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url("**/attorney/")
        _shots(page, "attorney-dashboard")
        page.click("text=Review offer >> nth=0")
        page.click("text=See party names to check conflicts")
        page.click("text=I have no conflict of interest")
        page.click("text=Accept this case")
        page.wait_for_url("**/attorney/cases/*/")
        _shots(page, "attorney-case")
    finally:
        connections.close_all()
    assert Match.objects.filter(attorney__user__email=email, status="accepted").exists()


def _shots(page, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True, timeout=120_000)
    page.set_viewport_size({"width": 1280, "height": 900})
