"""The dashboard in a real headless Chromium, against a real server and a real worker."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobforge.app import JobForge
from jobforge.dashboard.auth import issue_login_token
from jobforge.domain.errors import DoNotRetry
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Failed
from jobforge.domain.states import JobState
from jobforge.store.params import ClaimParams
from tests.browser.conftest import login, screenshot
from tests.dashboard.live_server import LiveServer

pytestmark = pytest.mark.browser

XSS_PAYLOAD = (
    '{"html": "<script>window.__pwned = 1</script><img src=x onerror=\\"window.__pwned = 2\\">"}'
)


def start_worker(server: LiveServer, queue: str, seconds: float = 1.5) -> None:
    """A real worker in the server's process, on `queue`: `browser.slow` takes `seconds`;
    `browser.mixed` takes a moment and fails for good when its payload says `fail`."""
    forge = JobForge()

    @forge.task("browser.slow", queue=queue)
    async def slow(payload: dict[str, Any], ctx: Any) -> dict[str, Any]:
        await asyncio.sleep(seconds)
        return {"echo": payload}

    @forge.task("browser.mixed", queue=queue)
    async def mixed(payload: dict[str, Any], ctx: Any) -> dict[str, Any]:
        await asyncio.sleep(0.1)
        if payload.get("fail"):
            raise DoNotRetry(f"refused item {payload['n']}")
        return {"n": payload["n"]}

    worker = forge.build_worker(
        server.store, server.settings, bus=server.bus, queues=[queue], concurrency=2
    )
    server.call(worker.start)
    server.on_exit(lambda: worker.stop(grace=2))


def make_dead(server: LiveServer, tenant: str, message: str = "SMTP refused") -> str:
    """A job of `tenant` failed straight to dead, written through the store."""

    async def run() -> str:
        result = await server.control.submit(
            NewJob(type="email.send", tenant=tenant, queue="mail", max_attempts=1)
        )
        claimed = await server.store.claim_jobs(
            ClaimParams(worker_id="w", queues=["mail"], limit=10, lease_seconds=60)
        )
        await server.store.finish_attempts(
            [
                Failed(job_id=j.id, lease_token=j.lease_token or uuid.uuid4(), message=message,
                       traceback="Traceback (most recent call last):\n  boom")
                for j in claimed
            ]
        )  # fmt: skip
        return str(result.job.id)

    return server.call(run)


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


def test_submit_through_the_form_and_watch_it_complete_without_reload(
    page: Page, server: LiveServer
) -> None:
    login(page, server)
    page.get_by_role("link", name="Create job").click()
    page.get_by_label("Type").fill("browser.slow")
    page.get_by_label("Queue").fill("browser")
    page.get_by_label("Payload (JSON object)").fill('{"to": "ada@example.com"}')
    screenshot(page, "create")
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    status = page.locator("#job-status")
    expect(status).to_have_text("pending")
    expect(page.locator("#live-status")).to_have_text("live")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()  # what pending allows
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")  # a reload would lose this

    start_worker(server, "browser")
    expect(status).to_have_text("running")
    screenshot(page, "job-running")
    expect(status).to_have_text("completed", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#result")).to_contain_text("ada@example.com")
    expect(page.locator(".timeline")).to_contain_text("finished")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)  # the buttons follow
    screenshot(page, "job-detail")


def test_payload_is_checked_before_submit(page: Page, server: LiveServer) -> None:
    login(page, server)
    page.goto("/jobs/new")
    page.get_by_label("Type").fill("email.send")
    page.get_by_label("Payload (JSON object)").fill("[1, 2")
    page.get_by_role("button", name="Submit job").click()
    expect(page.locator("#c-payload-msg")).to_contain_text("Not valid JSON")
    assert page.url.endswith("/jobs/new")  # the form was not sent
    page.get_by_label("Payload (JSON object)").fill("[1, 2]")
    page.get_by_role("button", name="Submit job").click()
    expect(page.locator("#c-payload-msg")).to_contain_text("must be a JSON object")


def test_rows_and_counts_update_live(page: Page, server: LiveServer) -> None:
    login(page, server)
    expect(page.locator('[data-count="pending"]')).to_have_text("0")
    ids = [
        str(server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops"))).job.id)
        for _ in range(3)
    ]
    expect(page.locator('[data-count="pending"]')).to_have_text("3")

    page.goto("/jobs")
    row = page.locator(f'tr[data-job-id="{ids[0]}"] [data-status]')
    expect(row).to_have_text("pending")
    server.call(lambda: server.control.cancel(uuid.UUID(ids[0]), tenant=None, actor="test"))
    expect(row).to_have_text("cancelled")


def test_overview_charts_completed_and_failed_live_and_lists_the_worker(
    page: Page, server: LiveServer
) -> None:
    login(page, server)
    page.evaluate("window.__sameDocument = true")
    start_worker(server, "chart")

    async def submit_burst(n: int, offset: int = 0) -> None:
        jobs = [
            NewJob(type="browser.mixed", tenant="ops", queue="chart", max_attempts=1,
                   payload={"n": offset + i, "fail": (offset + i) % 4 == 0})
            for i in range(n)
        ]  # fmt: skip
        await server.control.submit_many(jobs)

    for burst in range(3):  # a few seconds apart, so the chart has several peaks
        server.call(lambda b=burst: submit_burst(12, offset=12 * b))  # type: ignore[misc]
        page.wait_for_timeout(900)
    completed = page.locator('[data-chart="total_completed"]')
    expect(completed).to_have_text("27", timeout=15_000)  # 36 jobs, every 4th refused
    expect(page.locator('[data-chart="total_failed"]')).to_have_text("9")
    expect(page.locator('[data-count="dead"]')).to_have_text("9")
    expect(page.locator('[data-count="completed"]')).to_have_text("27")
    assert page.evaluate("window.__sameDocument") is True  # all of it without a reload
    # The lines rise above the baseline (y=158 is zero on the 160-high chart).
    heights = page.evaluate(
        """() => ['completed', 'failed'].map(k => Math.min(...document
             .querySelector(`#throughput polyline.${k}`).getAttribute('points')
             .split(' ').map(p => Number(p.split(',')[1]))))"""
    )
    assert all(y < 158 for y in heights), heights
    workers = page.locator("#worker-rows tr")
    expect(workers).to_have_count(1)
    expect(workers.first).to_contain_text(str(os.getpid()))
    expect(workers.first).to_contain_text("chart")
    screenshot(page, "overview")

    page.get_by_role("link", name="1m").click()  # zoom in: kept in the URL
    page.wait_for_url(re.compile(r"/\?window=1m$"))
    expect(page.get_by_role("heading", name="Throughput, last minute")).to_be_visible()
    expect(page.locator('[data-chart="total_completed"]')).to_have_text("27")
    points = page.locator("#throughput polyline.completed").get_attribute("points") or ""
    assert len(points.split()) == 60
    screenshot(page, "overview-last-minute")


def test_filters_survive_reload_and_back(page: Page, server: LiveServer) -> None:
    login(page, server)
    for job_type, to in [("email.send", "ada"), ("email.send", "bob"), ("report.generate", "ada")]:
        job = NewJob(type=job_type, tenant="ops", payload={"to": f"{to}@example.com"})
        server.call(lambda j=job: server.control.submit(j))  # type: ignore[misc]
    make_dead(server, "ops")
    page.goto("/jobs")
    screenshot(page, "jobs")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(4)
    page.get_by_label("pending").check()
    page.get_by_label("Type").fill("email.send")
    page.get_by_label("Search").fill("ADA@example")  # payload content, any case
    page.get_by_label("Created").select_option("1h")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"/jobs\?(?=.*status=pending)(?=.*type=email.send)(?=.*range=1h)"))
    assert "from=" not in page.url and "queue=" not in page.url  # empty fields stay out
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(1)
    expect(page.locator("#result-count")).to_contain_text("1 job matching")

    page.reload()
    expect(page.get_by_label("pending")).to_be_checked()
    expect(page.get_by_label("Type")).to_have_value("email.send")
    expect(page.get_by_label("Search")).to_have_value("ADA@example")
    expect(page.get_by_label("Created")).to_have_value("1h")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(1)
    screenshot(page, "jobs-filtered")

    page.go_back()
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(4)
    page.go_forward()
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(1)
    page.get_by_label("Search").fill("SMTP refused")  # error text
    page.get_by_label("pending").uncheck()
    page.get_by_label("Type").fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(1)
    expect(page.locator("tbody [data-status]")).to_have_text("dead")


def test_bulk_cancel_with_confirmation(page: Page, server: LiveServer) -> None:
    login(page, server)
    for _ in range(3):
        server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops")))
    page.goto("/jobs")
    checkboxes = page.locator('input[name="ids"]')
    checkboxes.nth(0).check()
    checkboxes.nth(1).check()
    expect(page.locator("#selected-count")).to_have_text("2")
    page.get_by_label("Action", exact=True).select_option("cancel")
    page.get_by_role("button", name=re.compile("Apply to selected")).click()
    expect(page.get_by_role("heading", name="Cancel 2 jobs?")).to_be_visible()
    screenshot(page, "bulk-confirm")
    page.get_by_role("button", name="Yes, cancel 2 jobs").click()
    expect(page.locator(".flash")).to_have_text("Cancelled 2 jobs.")
    expect(page.locator("[data-status]", has_text="cancelled")).to_have_count(2)

    # Everything matching a filter, across pages: counted, confirmed, then done.
    page.goto("/jobs?status=cancelled&per_page=25")
    page.get_by_label("Action", exact=True).select_option("delete")
    page.get_by_role("button", name="Apply to all 2 matching").click()
    expect(page.get_by_role("heading", name="Delete 2 jobs?")).to_be_visible()
    expect(page.locator(".warn")).to_have_text("Deleting cannot be undone.")
    page.get_by_role("button", name="Yes, delete 2 jobs").click()
    page.wait_for_url(re.compile(r"/jobs\?status=cancelled&per_page=25$"))
    expect(page.locator(".flash")).to_have_text("Deleted 2 jobs.")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(0)
    page.goto("/jobs")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(1)


def test_retry_a_dead_job_from_the_dead_letter_page(page: Page, server: LiveServer) -> None:
    job_id = make_dead(server, "ops")
    login(page, server)
    page.get_by_role("link", name="Dead letters").click()
    expect(page.locator(f'tr[data-job-id="{job_id}"]')).to_contain_text("SMTP refused")
    screenshot(page, "dead-letters")
    page.get_by_role("button", name=f"Retry job {job_id}").click()
    expect(page.locator(".flash")).to_have_text("Sent 1 dead job back to pending.")
    expect(page.locator(f'tr[data-job-id="{job_id}"]')).to_have_count(0)
    job = server.call(lambda: server.store.get_job(uuid.UUID(job_id), tenant=None))
    assert job.status is JobState.PENDING
    page.goto(f"/jobs/{job_id}")  # the timeline says who sent it back, and from where
    retried = page.locator(".timeline li", has_text="retried")
    expect(retried).to_contain_text("via the dashboard")
    expect(retried).to_contain_text("from dead")
    expect(page.locator(".attempt")).to_contain_text("SMTP refused")
    screenshot(page, "job-detail-retried")


def test_a_script_in_a_payload_is_shown_as_text(page: Page, server: LiveServer) -> None:
    login(page, server)
    page.goto("/jobs/new")
    page.get_by_label("Type").fill("<b>bold</b>")
    page.get_by_label("Payload (JSON object)").fill(XSS_PAYLOAD)
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    expect(page.locator("#payload")).to_contain_text("<script>window.__pwned = 1</script>")
    expect(page.locator(".fields")).to_contain_text("<b>bold</b>")
    page.goto("/jobs")
    expect(page.locator("tbody")).to_contain_text("<b>bold</b>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("tbody b").count() == 0


def test_queues_page_pauses_and_resumes(page: Page, server: LiveServer) -> None:
    server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops", queue="emails")))
    login(page, server)
    page.get_by_role("link", name="Queues").click()
    page.get_by_role("button", name="Pause queue emails").click()
    expect(page.locator(".flash")).to_have_text("Queue emails paused.")
    screenshot(page, "queues")
    page.get_by_role("button", name="Resume queue emails").click()
    expect(page.locator(".flash")).to_have_text("Queue emails resumed.")


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
