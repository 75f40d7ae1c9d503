"""Shared by every browser test: Chromium (never skipped), and the accessibility scan.

Every page a browser test visits is scanned with axe-core (axe-playwright-python ships it) for
WCAG 2.1 A and AA, and the test fails on any violation. The scan hooks Playwright's Page, so a
journey needs nothing of its own: each new document is scanned once, after the step that loaded
it (goto, reload, back, a click or a form submission that navigated), and once more at the end.
"""

import shutil
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Page methods after which a new document may be showing.
_NAVIGATING = ("goto", "reload", "go_back", "click", "press", "wait_for_url")
_SCANNED = "() => window.__a11yScanned === true"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def browser(live_server):
    """Depends on live_server so that it closes first: an open keep-alive connection would keep
    a server thread (and its database connection) alive past the test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Chromium is not installed, and the browser tests need it: run bin/ensure-chromium "
            "(or: sudo apt-get install chromium). `pytest -m 'not e2e'` runs the other tests.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        yield browser
        browser.close()
        # While Playwright's event loop runs in this thread, Django keeps the thread's connections
        # apart from the ones it has without it (asgiref: a running loop means async storage):
        # what the test read between browser steps went through a connection of its own, which
        # the database teardown, after this, no longer sees. Closed here, in that storage, or it
        # stays open after the test (a test's own close_all() before its last reads is not enough).
        connections.close_all()


class A11yScan:
    """Runs axe-core on each new document of every page; collects the violations."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.pages: list = []
        self.violations: list[str] = []
        self.scanned: list[str] = []

    def after(self, page) -> None:
        if page not in self.pages:
            self.pages.append(page)
        for _attempt in range(3):
            try:
                page.wait_for_load_state("load")
                if not page.evaluate(_SCANNED):
                    self._scan(page)
                return
            except Exception as error:  # a navigation replaced the document mid-scan: again
                if "context was destroyed" not in str(error) and "navigat" not in str(error):
                    raise

    def _scan(self, page) -> None:
        options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
        results = self.axe.run(page, options=options)
        page.evaluate("() => { window.__a11yScanned = true; }")
        self.scanned.append(page.url)
        for violation in results.response["violations"]:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
            self.violations.append(
                f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} "
                f"-> {targets}"
            )

    def finish(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                self.after(page)


@pytest.fixture(autouse=True)
def a11y(monkeypatch):
    """Scan every page the test visits; fail the test on any WCAG 2.1 A/AA violation."""
    from playwright.sync_api import Locator, Page

    scan = A11yScan()
    for name in _NAVIGATING:
        monkeypatch.setattr(Page, name, _scanning(getattr(Page, name), scan))
    for name in ("click", "press"):
        monkeypatch.setattr(Locator, name, _scanning(getattr(Locator, name), scan, of=_page_of))
    yield scan
    scan.finish()
    assert not scan.violations, "Accessibility (WCAG 2.1 A/AA) violations:\n" + "\n".join(
        scan.violations
    )


def _page_of(locator):
    return locator.page


def _scanning(method, scan: A11yScan, of=lambda page: page):
    def wrapper(target, *args, **kwargs):
        result = method(target, *args, **kwargs)
        page = of(target)
        if not page.is_closed():
            scan.after(page)
        return result

    return wrapper


@pytest.fixture(autouse=True)
def _async_unsafe_allowed(monkeypatch):
    """Playwright's sync API runs an event loop in the test's thread; the ORM calls made between
    browser steps are ordinary synchronous code. Set for these tests only: a process started by
    another test (check --deploy) must not inherit it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
