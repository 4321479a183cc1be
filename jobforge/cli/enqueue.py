"""`jobforge enqueue TYPE --payload JSON`: submit one job to a running server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from jobforge.cli import app
from jobforge.cli.output import JsonOption, fail, out, print_job, print_json, status_text
from jobforge.cli.remote import KeyOption, UrlOption, call_api
from jobforge.client import AsyncClient, JobInfo


def parse_payload(text: str) -> dict[str, Any]:
    """`--payload`: a JSON object, `@path` to read one from a file, or `-` for stdin."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read --payload file: {exc}")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--payload is not valid JSON: {exc}")
    if not isinstance(payload, dict):
        fail(f"--payload must be a JSON object, got {type(payload).__name__}")
    return payload


@app.command()
def enqueue(
    type: Annotated[str, typer.Argument(help="Handler name, e.g. email.send.")],
    payload: Annotated[
        str, typer.Option("--payload", "-p", help="JSON object, @FILE, or - for stdin.")
    ] = "{}",
    queue: Annotated[str | None, typer.Option(help="Queue [default: default].")] = None,
    priority: Annotated[int | None, typer.Option(help="Lower runs first [default: 0].")] = None,
    max_attempts: Annotated[int | None, typer.Option(min=1, help="Attempts before dead.")] = None,
    delay: Annotated[
        float | None, typer.Option(min=0, help="Run no earlier than this many seconds from now.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Seconds one attempt may take.")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Submitting the same key again returns the first job.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the job finishes, then show it.")
    ] = False,
    wait_timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 300.0,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit one job."""
    body = parse_payload(payload)

    async def submit(client: AsyncClient) -> JobInfo:
        job = await client.create_job(
            type,
            body,
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            delay=delay,
            timeout_seconds=timeout,
            idempotency_key=idempotency_key,
        )
        if not as_json:
            announce(job)
        if wait:
            try:
                return await client.wait_for_job(job.id, timeout=wait_timeout)
            except TimeoutError as exc:
                fail(str(exc))
        return job

    job = call_api(url, api_key, submit)
    if as_json:
        print_json(job)
    elif wait:
        print_job(job)
        if job.status.value != "completed":
            raise typer.Exit(1)


def announce(job: JobInfo) -> None:
    if job.replayed:
        out.print(
            f"job {job.id} already exists for idempotency key "
            f"{job.idempotency_key!r} ({status_text(job)})"
        )
    else:
        out.print(f"created job {job.id} ({job.type}, queue {job.queue}, {status_text(job)})")
