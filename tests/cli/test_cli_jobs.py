"""`jobforge enqueue`, `jobs` and `dlq` against a live `jobforge up`, as a user types them."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from cli_harness import UpProcess, run_cli


def cli_json(*args: str, env: dict[str, str]) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait_for_status(job_id: str, status: str, env: dict[str, str], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = cli_json("jobs", "show", job_id, env=env)
        if job["status"] == status or time.monotonic() > deadline:
            assert job["status"] == status, job
            return job
        time.sleep(0.1)


def test_enqueue_then_show_a_completed_job(api_env: dict[str, str]) -> None:
    job = cli_json("enqueue", "email.send", "--payload", '{"to": "ada@example.com"}', env=api_env)
    assert (job["type"], job["status"], job["payload"]) == (
        "email.send",
        "pending",
        {"to": "ada@example.com"},
    )
    done = wait_for_status(job["id"], "completed", api_env)
    assert done["result"]["sent_to"] == "ada@example.com"

    shown = run_cli("jobs", "show", job["id"], env=api_env)
    assert shown.exit_code == 0
    assert "completed" in shown.stdout and "ada@example.com" in shown.stdout


def test_enqueue_wait_shows_the_outcome(api_env: dict[str, str]) -> None:
    result = run_cli(
        "enqueue", "email.send", "-p", '{"to": "b@example.com", "delay": 0.1}', "--wait",
        env=api_env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("created job ")
    assert "completed" in result.stdout and "b@example.com" in result.stdout


def test_idempotency_key_on_the_command_line(api_env: dict[str, str]) -> None:
    args = ("enqueue", "email.send", "-p", '{"to": "c@example.com"}', "--idempotency-key", "once")
    first = run_cli(*args, env=api_env)
    again = run_cli(*args, env=api_env)
    assert first.exit_code == again.exit_code == 0
    job_id = first.stdout.split()[2]
    assert f"job {job_id} already exists for idempotency key 'once'" in again.stdout
    other = run_cli("enqueue", "email.send", "--idempotency-key", "once", env=api_env)
    assert other.exit_code == 1 and "HTTP 409 idempotency_conflict" in other.stderr


def test_list_filters_cancel_and_retry(api_env: dict[str, str]) -> None:
    later = cli_json(
        "enqueue", "report.generate", "--delay", "3600", "--queue", "later", env=api_env
    )
    page = cli_json("jobs", "list", "--queue", "later", "--status", "scheduled", env=api_env)
    assert [j["id"] for j in page["items"]] == [later["id"]] and page["total"] == 1

    table = run_cli("jobs", "list", "--queue", "later", env=api_env)
    assert later["id"] in table.stdout and "1-1 of 1" in table.stdout

    cancelled = run_cli("jobs", "cancel", later["id"], env=api_env)
    assert cancelled.exit_code == 0 and f"job {later['id']} is cancelled" in cancelled.stdout
    again = run_cli("jobs", "cancel", later["id"], env=api_env)
    assert again.exit_code == 1 and "illegal_transition" in again.stderr

    retried = run_cli("jobs", "retry", later["id"], env=api_env)
    assert retried.exit_code == 0 and "is pending again" in retried.stdout


def test_dead_letter_queue_commands(api_env: dict[str, str]) -> None:
    job = cli_json("enqueue", "image.process", "-p", '{"src": "cat.png"}', env=api_env)
    dead = wait_for_status(job["id"], "dead", api_env)
    assert "no handler registered" in dead["last_error"]

    listed = cli_json("dlq", "list", "--type", "image.process", env=api_env)
    assert job["id"] in [j["id"] for j in listed["items"]]
    table = run_cli("dlq", "list", env=api_env)
    assert job["id"] in table.stdout

    assert cli_json("dlq", "retry", "--id", job["id"], env=api_env) == {"count": 1}
    wait_for_status(job["id"], "dead", api_env)  # still no handler, so dead again
    refused = run_cli("dlq", "purge", "--type", "image.process", env=api_env, input="n\n")
    assert refused.exit_code == 1 and "Delete dead jobs with type image.process?" in refused.stdout
    purged = run_cli("dlq", "purge", "--type", "image.process", "--yes", env=api_env)
    assert purged.exit_code == 0 and purged.stdout.startswith("deleted ")
    assert cli_json("dlq", "list", "--type", "image.process", env=api_env)["total"] == 0


def test_load_test_submits_and_drains(api_env: dict[str, str]) -> None:
    summary = cli_json(
        "load-test", "--count", "60", "--batch-size", "25", "--concurrency", "2", "--poll",
        env=api_env,
    )  # fmt: skip
    assert (summary["jobs"], summary["batches"]) == (60, 3)
    assert summary["drained"] is True and summary["processed"] >= 60
    assert summary["submit_rate"] > 0 and summary["drain_seconds"] >= summary["submit_seconds"]

    human = run_cli("load-test", "-n", "10", env=api_env)
    assert human.exit_code == 0 and "submitted 10 jobs in 1 batches" in human.stdout


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_errors_are_one_line_without_traceback(up: UpProcess, api_env: dict[str, str]) -> None:
    cases = [
        (("jobs", "list"), {"JOBFORGE_URL": up.url}, "no API key: pass --api-key"),
        (("jobs", "list", "--api-key", "jf_wrong"), {"JOBFORGE_URL": up.url}, "HTTP 401"),
        (("jobs", "show", "00000000-0000-0000-0000-000000000000"), api_env, "not found"),
        (("jobs", "show", "12345"), api_env, "'12345' is not a job id"),
        (("enqueue", "email.send", "-p", "{oops"), api_env, "--payload is not valid JSON"),
        (("enqueue", "email.send", "-p", "[1]"), api_env, "must be a JSON object, got list"),
        (("enqueue", "bad type!"), api_env, "HTTP 422 validation_error"),
        (
            ("jobs", "list", "--url", f"http://127.0.0.1:{closed_port()}"),
            api_env,
            "cannot connect to http://127.0.0.1:",
        ),
    ]
    for args, env, message in cases:
        result = run_cli(*args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output
