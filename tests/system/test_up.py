"""`jobforge up` tried the way a new user tries it: start it, read the banner, then plain
HTTP calls (httpx standing in for curl) with the key the banner printed. Submit a demo
job, watch it complete, see the metrics add up, open the one-time dashboard link (once),
then stop it with SIGTERM and expect a clean exit."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.cli_harness import UpProcess

pytestmark = pytest.mark.system

API = "/api/v1"
LOGIN_LINE = re.compile(
    r"Dashboard\s+(http://\S+/login/link\?token=\S+)\s+\(one-time login link, valid 15 minutes\)"
)
STATE_COUNTS = (
    "pending_jobs",
    "scheduled_jobs",
    "running_jobs",
    "completed_jobs",
    "failed_jobs",
    "dead_letter_jobs",
    "cancelled_jobs",
)
SESSION_COOKIE = "jobforge_session"


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    """A first start of `jobforge up --port 0` on a fresh SQLite file in an empty directory;
    stopped by PID whatever the test does."""
    server = UpProcess.start(tmp_path, f"sqlite:///{tmp_path / 'jobforge.db'}")
    try:
        yield server
    finally:
        server.terminate()


def wait_for(what: str, check: Any, timeout: float) -> Any:
    """Poll `check()` until it returns something truthy, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def metrics(client: httpx.Client) -> dict[str, Any]:
    response = client.get(f"{API}/metrics")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_counts_add_up(m: dict[str, Any]) -> None:
    """Every job is in exactly one state, and the aliases agree with what they alias."""
    assert m["total_jobs"] == sum(m[name] for name in STATE_COUNTS), m
    assert m["active_jobs"] == m["running_jobs"]
    assert m["dlq_jobs"] == m["dlq_length"] == m["dead_letter_jobs"]
    assert m["queue_length"] == m["pending_jobs"]
    assert m["retry_queue_length"] == m["failed_jobs"]


def test_a_new_user_runs_a_job_through_jobforge_up(up: UpProcess) -> None:
    banner = up.wait_for_banner(timeout=60)
    assert up.url.startswith("http://127.0.0.1:"), banner
    assert up.api_key.startswith("jf_"), banner
    login = LOGIN_LINE.search(banner)
    assert login is not None, banner
    assert login.group(1).startswith(up.url + "/login/link?token="), banner

    with httpx.Client(
        base_url=up.url,
        headers={"Authorization": f"Bearer {up.api_key}"},
        timeout=10,
    ) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["store"] == "ok"

        before = metrics(client)
        assert_counts_add_up(before)

        created = client.post(
            f"{API}/jobs",
            json={"type": "email.send", "payload": {"to": "ada@example.com", "delay": 0.2}},
        )
        assert created.status_code == 201, created.text
        job = created.json()
        assert job["status"] == "pending"
        assert job["type"] == "email.send"

        def finished() -> dict[str, Any] | None:
            response = client.get(f"{API}/jobs/{job['id']}")
            assert response.status_code == 200, response.text
            current: dict[str, Any] = response.json()
            assert current["status"] in ("pending", "running", "completed"), current
            return current if current["status"] == "completed" else None

        done = wait_for("the job to complete", finished, timeout=30)
        assert done["result"] == {"sent_to": "ada@example.com", "subject": ""}
        assert done["attempts"] == 1
        assert done["errors"] == []
        assert done["finished_at"] is not None

        after = metrics(client)
        assert_counts_add_up(after)
        assert after["total_jobs"] == before["total_jobs"] + 1
        assert after["completed_jobs"] == before["completed_jobs"] + 1
        assert after["throughput"]["completed_last_minute"] >= 1

    with httpx.Client(timeout=10) as browser:
        first = browser.get(login.group(1))
        assert first.status_code == 303, first.text
        assert first.headers["location"] == "/"
        assert browser.cookies.get(SESSION_COOKIE)
        dashboard = browser.get(f"{up.url}/")
        assert dashboard.status_code == 200
        assert "text/html" in dashboard.headers["content-type"]

    with httpx.Client(timeout=10) as someone_else:
        again = someone_else.get(login.group(1))
        assert again.status_code == 401
        assert SESSION_COOKIE not in again.cookies
        assert "already used" in again.text

    assert up.terminate() == 0, up.logs()
    assert "jobforge stopped" in up.stdout.read_text()
