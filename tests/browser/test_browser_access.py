"""Signing in and out, and every page at a phone's width, labelled and keyboard reachable,
in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from jobforge.dashboard.auth import issue_login_token
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import make_dead
from tests.dashboard.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_sign_in_sign_out_and_a_one_time_link(page: Page, server: LiveServer) -> None:
    page.goto("/jobs?status=dead")  # signed out: the login page, which returns here
    expect(page.get_by_role("heading", name="Sign in to jobforge")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("API key").fill("jf_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Unknown or revoked API key.")
    page.get_by_label("API key").fill(server.key("ops", admin=True))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/jobs?status=dead")
    cookie = next(c for c in page.context.cookies() if c["name"] == "jobforge_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator(".flash")).to_have_text("Signed out.")
    page.goto("/")
    page.wait_for_url(re.compile(r"/login\?next="))

    link = server.url + issue_login_token(server.settings, server.key("ops", admin=True))
    page.goto(link)
    page.wait_for_url(f"{server.url}/")
    expect(page.locator(".tenant")).to_have_text("ops (admin)")
    page.context.clear_cookies()
    page.goto(link)  # once only
    expect(page.get_by_role("alert")).to_contain_text("already used")


def test_pages_fit_a_phone_and_every_control_is_labelled(page: Page, server: LiveServer) -> None:
    job_id = make_dead(server, "ops")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/login")
    screenshot(page, "phone-login")
    login(page, server)
    unlabelled_js = """() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, button'))
      .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.textContent.trim())
      .map(el => el.outerHTML)"""
    pages = {"overview": "/", "jobs": "/jobs", "job": f"/jobs/{job_id}", "create": "/jobs/new",
             "dlq": "/dlq", "queues": "/queues"}  # fmt: skip
    for name, path in pages.items():
        page.goto(path)
        assert page.evaluate(unlabelled_js) == [], path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
        screenshot(page, f"phone-{name}")
    # What matters most in a list is on screen without scrolling sideways.
    for path, target in [
        ("/jobs", page.locator(f'tr[data-job-id="{job_id}"] [data-status]')),
        ("/dlq", page.get_by_role("button", name=f"Retry job {job_id}")),
    ]:
        page.goto(path)
        box = target.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 375, (path, box)


def test_keyboard_reaches_navigation_and_forms(page: Page, server: LiveServer) -> None:
    login(page, server)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    for _ in range(20):  # tab to the Jobs link and follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Jobs":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/jobs")
    page.get_by_label("Search").focus()
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/jobs\?q=abc"))
