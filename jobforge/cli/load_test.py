"""`jobforge load-test --count N [--poll]`: submit N demo jobs over HTTP and watch them drain.

Jobs go out in batches (`POST /jobs/batch`) from several concurrent senders, as a real
producer would. The server's per-tenant rate limit applies: a 429 makes that sender wait
the `Retry-After` it was given and send the same batch again (a refused batch created
nothing), and the summary says how often that happened, since it caps the submit rate.
With `--poll`, the job counts are shown live until as many jobs have finished since the
start as were submitted, or nothing is left pending, scheduled, running or awaiting a retry.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from jobforge.cli import app
from jobforge.cli.enqueue import parse_payload
from jobforge.cli.output import JsonOption, err, fail, out
from jobforge.cli.remote import KeyOption, UrlOption, call_api
from jobforge.client import AsyncClient, JobRequest, Metrics, RateLimited

DEFAULT_PAYLOAD = '{"to": "load-test@example.com", "delay": 0.01}'
"""`email.send` with a 10 ms "send", so a drain measures jobforge rather than the handler."""
POLL_SECONDS = 0.5


@dataclass(kw_only=True)
class LoadTestResult:
    """What the summary reports (and `--json` prints)."""

    jobs: int
    batches: int
    throttled: int
    submit_seconds: float
    submit_rate: float
    drained: bool | None = None
    drain_seconds: float | None = None
    processed: int | None = None
    completed: int | None = None
    dead: int | None = None
    process_rate: float | None = None


@app.command("load-test")
def load_test(
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Jobs to submit.")] = 1000,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Jobs per request.")] = 100,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 4,
    job_type: Annotated[str, typer.Option("--type", help="Job type.")] = "email.send",
    payload: Annotated[
        str, typer.Option("--payload", "-p", help="JSON payload of every job.")
    ] = DEFAULT_PAYLOAD,
    queue: Annotated[str | None, typer.Option(help="Queue [default: default].")] = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="Then show the counts live until the queue drains.")
    ] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds --poll waits at most.")] = 600.0,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit COUNT demo jobs (batched, concurrent), then optionally watch them drain."""
    template = JobRequest(type=job_type, payload=parse_payload(payload), queue=queue)
    run = LoadTest(count=count, batch_size=batch_size, concurrency=concurrency, template=template)
    result = call_api(url, api_key, lambda client: run.execute(client, poll=poll, timeout=timeout))
    if as_json:
        sys.stdout.write(json.dumps(asdict(result)) + "\n")
    else:
        print_summary(result)
    if poll and not result.drained:
        fail(f"the queue did not drain within {timeout:g} s")


class LoadTest:
    """One run: submit `count` jobs in batches, then (optionally) poll until drained."""

    def __init__(
        self, *, count: int, batch_size: int, concurrency: int, template: JobRequest
    ) -> None:
        self.count = count
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.template = template
        self.throttled = 0
        # Progress goes to stderr so that `--json` output on stdout stays clean.
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=err,
        )

    async def execute(self, client: AsyncClient, *, poll: bool, timeout: float) -> LoadTestResult:
        baseline = await client.metrics() if poll else None
        with self.progress:
            started = time.monotonic()
            await self.submit_all(client)
            submit_seconds = max(time.monotonic() - started, 1e-9)
            result = LoadTestResult(
                jobs=self.count,
                batches=math.ceil(self.count / self.batch_size),
                throttled=self.throttled,
                submit_seconds=round(submit_seconds, 3),
                submit_rate=round(self.count / submit_seconds, 1),
            )
            if baseline is not None:
                await self.watch_drain(client, baseline, started, timeout, result)
        return result

    async def submit_all(self, client: AsyncClient) -> None:
        task = self.progress.add_task("submitted", total=self.count, note="")
        sizes = [
            min(self.batch_size, self.count - i) for i in range(0, self.count, self.batch_size)
        ]
        batches: asyncio.Queue[int] = asyncio.Queue()
        for size in sizes:
            batches.put_nowait(size)

        async def sender() -> None:
            while not batches.empty():
                size = batches.get_nowait()
                await self.send_batch(client, size)
                self.progress.update(task, advance=size)

        await asyncio.gather(*(sender() for _ in range(min(self.concurrency, len(sizes)))))

    async def send_batch(self, client: AsyncClient, size: int) -> None:
        jobs = [self.template] * size
        while True:
            try:
                await client.create_jobs(jobs)
                return
            except RateLimited as exc:
                self.throttled += 1
                await asyncio.sleep(exc.retry_after or 1.0)

    async def watch_drain(
        self,
        client: AsyncClient,
        baseline: Metrics,
        started: float,
        timeout: float,
        result: LoadTestResult,
    ) -> None:
        task = self.progress.add_task("processed", total=self.count, note="")
        deadline = started + timeout
        while True:
            metrics = await client.metrics()
            finished = _finished(metrics) - _finished(baseline)
            self.progress.update(task, completed=min(finished, self.count), note=_note(metrics))
            # Finished counts are tenant-wide, so jobs left unfinished by someone else (say in a
            # queue no worker serves) must not keep the load test waiting forever.
            drained = metrics.unfinished_jobs == 0 or finished >= self.count
            if drained or time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        elapsed = max(time.monotonic() - started, 1e-9)
        result.drained = drained
        result.drain_seconds = round(elapsed, 3)
        result.processed = finished
        result.completed = metrics.completed_jobs - baseline.completed_jobs
        result.dead = metrics.dead_letter_jobs - baseline.dead_letter_jobs
        result.process_rate = round(finished / elapsed, 1)


def _finished(metrics: Metrics) -> int:
    return metrics.completed_jobs + metrics.dead_letter_jobs + metrics.cancelled_jobs


def _note(metrics: Metrics) -> str:
    return (
        f"pending {metrics.pending_jobs}  running {metrics.running_jobs}  "
        f"retrying {metrics.retry_queue_length}  dead {metrics.dead_letter_jobs}"
    )


def print_summary(result: LoadTestResult) -> None:
    lines: list[str] = [
        f"submitted {result.jobs} jobs in {result.batches} batches in "
        f"{result.submit_seconds:.2f} s: {result.submit_rate:,.0f} jobs/s",
    ]
    if result.throttled:
        lines.append(
            f"rate limited {result.throttled} times (JOBFORGE_RATE_LIMIT_TENANT_PER_SECOND "
            "caps the submit rate)"
        )
    if result.drained is not None:
        state = "drained" if result.drained else "NOT drained"
        lines.append(
            f"{state} {result.drain_seconds:.2f} s after the first submit: "
            f"{result.processed} finished ({result.completed} completed, {result.dead} dead), "
            f"{result.process_rate:,.0f} jobs/s"
        )
    for line in lines:
        out.print(line)
