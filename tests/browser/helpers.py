"""What the browser tests share: a real worker in the server's process, a dead job made
through the store, and a payload that would run if it were not escaped."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from jobforge.app import JobForge
from jobforge.domain.errors import DoNotRetry
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Failed
from jobforge.store.params import ClaimParams
from tests.dashboard.live_server import LiveServer

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
