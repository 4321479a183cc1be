"""Browser test harness: Debian's Chromium driven by Playwright, against a real server.

The server (`tests/dashboard/live_server.py`) runs uvicorn with the real app over a temp
SQLite store; `worker` adds a real jobforge worker to that server's loop, with handlers the
tests define. Screenshots go to `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.dashboard.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


# Module scope, not session: the sync API keeps an event loop running in the main thread
# while it is open, which would break every asyncio test collected after this module.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (tests/browser_setup.py installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as s:
        yield s


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("console", lambda m: errors.append(m.text) if is_error(m) else None)
    yield p
    context.close()
    # Every page ran its script without an error (CSP violations are console errors too).
    assert not errors, errors


LOGIN_PATHS = {"/login", "/login/link"}
"""A refused sign-in answers 401 with the login form: Chromium logs that page load as a
console error, which is the page working as meant."""


def is_error(message: ConsoleMessage) -> bool:
    if message.type != "error":
        return False
    refused_login = urlsplit(message.location.get("url", "")).path in LOGIN_PATHS
    return not (refused_login and message.text.startswith("Failed to load resource"))


def login(page: Page, server: LiveServer, *, admin: bool = True) -> str:
    """Sign in through the login form with a new key; returns the key."""
    key = server.key("ops" if admin else "acme", admin=admin)
    page.goto("/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return key


def screenshot(page: Page, name: str, **options: Any) -> Path:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, **options)
    return path
