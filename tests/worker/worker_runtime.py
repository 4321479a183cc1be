"""Helpers for worker tests that run against a real store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from jobforge.app import JobForge
from jobforge.domain.backoff import Backoff
from jobforge.domain.job import Job, NewJob
from jobforge.events import EventBus
from jobforge.store import Store
from jobforge.worker.worker import Worker, WorkerConfig

FAST = {
    "concurrency": 5,
    "lease_seconds": 2.0,
    "heartbeat_seconds": 0.2,
    "poll_interval_seconds": 0.02,
    "fallback_poll_seconds": 0.1,
    "rescue_interval_seconds": 0.1,
    "shutdown_grace_seconds": 5.0,
    "backoff": Backoff(base=0.05, cap=0.2, jitter=False),
}


def fast_config(**overrides: Any) -> WorkerConfig:
    values: dict[str, Any] = {"queues": ("default",), **FAST}
    values.update(overrides)
    return WorkerConfig(**values)


@asynccontextmanager
async def running_worker(
    store: Store, forge: JobForge, *, bus: EventBus | None = None, **overrides: Any
) -> AsyncIterator[Worker]:
    worker = Worker(store, forge.registry, fast_config(**overrides), bus=bus)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def enqueue(store: Store, *jobs: NewJob) -> list[Job]:
    return [r.job for r in await store.enqueue_jobs(list(jobs))]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Poll `check` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def job_in(store: Store, job_id: Any, *statuses: str, timeout: float = 15.0) -> Job:
    async def check() -> bool:
        return (await store.get_job(job_id, tenant=None)).status in statuses

    await eventually(check, timeout)
    return await store.get_job(job_id, tenant=None)
