"""The public pages pass axe-core's WCAG 2.1 A/AA rules (issue 12, item 14).

The scan itself lives in tests/e2e/conftest.py and runs on every page every browser test visits;
this test walks the public pages nobody's journey passes through, on a phone and a desktop.
"""

import pytest
from django.db import connections

PUBLIC = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/key/1-not-a-key/",  # "Link not valid" (allauth's "Bad Token")
    "/accounts/confirm-email/",
    "/pledges/",
    "/pledges/new/",
    "/admin/login/",
    "/no-such-page/",
]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_public_pages_have_no_wcag_violations(browser, live_server, a11y, viewport):
    width, height = viewport
    try:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        for path in PUBLIC:
            page.goto(live_server.url + path)
        a11y.finish()
        assert len(a11y.scanned) == len(PUBLIC)  # each page was scanned
    finally:
        connections.close_all()
