"""Jobs in a real headless Chromium: submitting through the form and watching it run, the
table's live rows, filters in the URL, bulk actions, and user data shown as text."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from jobforge.domain.job import NewJob
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import XSS_PAYLOAD, make_dead, start_worker
from tests.dashboard.live_server import LiveServer

pytestmark = pytest.mark.browser


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

    # New jobs are announced only when they belong in the filtered list.
    page.goto("/jobs?queue=default")
    notice = page.locator("#new-jobs")
    other = NewJob(type="t", tenant="ops", queue="elsewhere")

    async def elsewhere_then_cancel() -> None:
        await server.control.submit(other)
        await server.control.cancel(uuid.UUID(ids[1]), tenant=None, actor="test")

    server.call(elsewhere_then_cancel)
    expect(page.locator(f'tr[data-job-id="{ids[1]}"] [data-status]')).to_have_text("cancelled")
    expect(notice).to_be_hidden()  # the same message carried the job of another queue
    mine = server.call(lambda: server.control.submit(NewJob(type="t", tenant="ops"))).job.id
    expect(notice).to_be_visible()
    notice.get_by_role("link").click()
    expect(page.locator(f'tr[data-job-id="{mine}"]')).to_have_count(1)


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
