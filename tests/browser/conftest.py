"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server. The tests skip when
Chromium is absent, and fail instead when REQUIRE_SERVICES=1 (CI)."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from ..conftest import require_service

# Playwright's sync API runs an event loop in this thread; Django must still let the test thread query.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def browser():
    require_service("chromium", os.path.exists(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """One browser context on the live server, ``width`` px wide (900 high), recording every request that leaves
    it."""

    def __init__(self, browser, base_url: str, *, bypass_csp: bool = False, width: int = 1280):
        self.base_url = base_url
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True, bypass_csp=bypass_csp
        )
        self.context.set_default_timeout(15_000)
        self.external: list[str] = []
        self.csp_violations: list[str] = []
        self.context.on("request", self._record)
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def _record(self, request) -> None:
        url = request.url
        if not (url.startswith((self.base_url, "data:")) or url == "about:blank"):
            self.external.append(url)

    def go(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        return response

    def sign_in(self, username: str, password: str = "demo") -> None:
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("[data-testid=user-name]")

    def sign_out(self) -> None:
        self.page.click("text=Sign out")
        self.page.wait_for_selector("#id_username")

    def axe_violations(self, impacts=("serious", "critical")) -> list[str]:
        """axe-core's serious and critical violations on the current page, every <details> opened first so
        the action forms inside are checked too. Injecting axe needs a session made with ``bypass_csp``:
        the site's Content-Security-Policy rightly refuses an injected script."""
        self.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.add_script_tag(content=AXE.read_text())
        violations = self.page.evaluate("async () => (await axe.run(document)).violations")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in violations
            if v["impact"] in impacts
        ]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, live_server):
    sessions = []

    def make(**options) -> Session:
        sessions.append(Session(browser, live_server.url, **options))
        return sessions[-1]

    yield make
    for s in sessions:
        s.close()


@pytest.fixture
def demo(settings):
    """The real NYC data, the demo accounts (password "demo") and flags in several statuses."""
    from .scenario import build_story

    settings.PERCOLATE_DEMO_ALLOWED = True
    call_command("seed_demo", stdout=io.StringIO())
    return build_story()
