"""The overview, dead letters and queues in a real headless Chromium, against a real server
and a real worker."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import make_dead, start_worker
from tests.dashboard.live_server import LiveServer

pytestmark = pytest.mark.browser


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


def test_queues_page_pauses_and_resumes(page: Page, server: LiveServer) -> None:
    server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops", queue="emails")))
    login(page, server)
    page.get_by_role("link", name="Queues").click()
    page.get_by_role("button", name="Pause queue emails").click()
    expect(page.locator(".flash")).to_have_text("Queue emails paused.")
    screenshot(page, "queues")
    page.get_by_role("button", name="Resume queue emails").click()
    expect(page.locator(".flash")).to_have_text("Queue emails resumed.")
    pending = page.locator('tr[data-queue="emails"] [data-state="pending"]')
    expect(pending).to_have_text("1")
    server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops", queue="emails")))
    expect(pending).to_have_text("2")  # counts follow the events, no reload
