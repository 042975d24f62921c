"""A real browser: Playwright driving Debian's Chromium (installed by .ci/system-packages). In CI (CI=true)
a missing browser fails the run; elsewhere these tests are skipped with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.required import missing

CHROMIUM = Path("/usr/bin/chromium")
# As the machine's own probe starts it: no background traffic on a closed network; audio may start
# without a user gesture so `play()` after a fetch is allowed.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module: Playwright's sync API keeps an event loop running in this thread until it
    stops, which would break later tests that call asyncio.run()."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: run .ci/system-packages")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def serve():
    """Serve an app on a free 127.0.0.1 port; returns its base URL."""
    from tests.fakes.server import FakeServer

    servers = []

    def start(app) -> str:
        server = FakeServer(app).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
