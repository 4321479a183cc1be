"""The Worker against real stores (SQLite and PostgreSQL): claims, outcomes, retries,
cancellation, shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from worker_runtime import enqueue, eventually, job_in, running_worker

from jobforge.app import JobForge
from jobforge.demo.handlers import forge as demo_forge
from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.events.memory import InProcessEventBus
from jobforge.events.types import EventName, JobEvent
from jobforge.store import Store
from jobforge.worker.registry import TaskContext


async def test_runs_jobs_to_completion_and_announces_them(store: Store) -> None:
    forge = JobForge()

    @forge.task("add")
    async def add(payload: dict[str, Any], ctx: TaskContext) -> int:
        return int(payload["a"]) + int(payload["b"])

    bus = InProcessEventBus()
    seen: list[JobEvent] = []

    async def listen() -> None:
        async with bus.subscribe() as events:
            async for event in events:
                seen.append(event)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    async with running_worker(store, forge, bus=bus):
        jobs = await enqueue(
            store, *(NewJob(type="add", payload={"a": i, "b": 1}) for i in range(20))
        )
        for job in jobs:
            done = await job_in(store, job.id, "completed")
            assert done.result == job.payload["a"] + 1 and done.attempts == 1
    await eventually(lambda: _async(len([e for e in seen if e.event is EventName.COMPLETED]) == 20))
    assert {e.job_id for e in seen if e.event is EventName.STARTED} == {j.id for j in jobs}
    listener.cancel()


async def _async(value: bool) -> bool:
    return value


async def test_failing_job_retries_with_backoff_then_dies_with_its_history(store: Store) -> None:
    forge = JobForge()

    @forge.task("flaky", backoff_base=0.05, backoff_max=1, backoff_jitter=False)
    async def flaky(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise ValueError(f"attempt {ctx.attempt} failed")

    async with running_worker(store, forge):
        (job,) = await enqueue(store, NewJob(type="flaky", max_attempts=3))
        dead = await job_in(store, job.id, "dead")
    assert dead.attempts == 3
    assert [e.attempt for e in dead.errors] == [1, 2, 3]
    assert [e.message for e in dead.errors] == [
        f"ValueError: attempt {i} failed" for i in (1, 2, 3)
    ]
    assert all(e.traceback and "ValueError" in e.traceback for e in dead.errors)
    assert dead.last_error == "ValueError: attempt 3 failed"


async def test_demo_job_without_handler_is_dead_at_once(store: Store) -> None:
    async with running_worker(store, demo_forge, queues=("images", "default")):
        (job,) = await enqueue(store, NewJob(type="image.process", queue="images", max_attempts=5))
        dead = await job_in(store, job.id, "dead")
    assert dead.attempts == 1
    assert dead.last_error is not None
    assert "no handler registered for job type 'image.process'" in dead.last_error


async def test_concurrency_is_capped(store: Store) -> None:
    forge = JobForge()
    active = 0
    peak = 0

    @forge.task("slow")
    async def slow(payload: dict[str, Any], ctx: TaskContext) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    async with running_worker(store, forge, concurrency=3) as worker:
        jobs = await enqueue(store, *(NewJob(type="slow") for _ in range(15)))
        for job in jobs:
            await job_in(store, job.id, "completed")
        assert worker.stats.claimed == 15
    assert peak == 3


async def test_an_idle_worker_picks_up_a_job_enqueued_later(store: Store) -> None:
    forge = JobForge()

    @forge.task("ping")
    async def ping(payload: dict[str, Any], ctx: TaskContext) -> str:
        return "pong"

    async with running_worker(store, forge, fallback_poll_seconds=30.0):
        await asyncio.sleep(0.3)  # idle: several polls (SQLite) or listening (PostgreSQL)
        (job,) = await enqueue(store, NewJob(type="ping"))
        # The fallback poll is 30 s, so on PostgreSQL only the NOTIFY can wake the worker.
        assert (await job_in(store, job.id, "completed", timeout=5)).result == "pong"


async def test_sync_handlers_run_too(store: Store) -> None:
    forge = JobForge()

    @forge.task("sync.upper")
    def upper(payload: dict[str, Any], ctx: TaskContext) -> str:
        return str(payload["s"]).upper()

    async with running_worker(store, forge):
        (job,) = await enqueue(store, NewJob(type="sync.upper", payload={"s": "abc"}))
        assert (await job_in(store, job.id, "completed")).result == "ABC"


async def test_cancel_requested_stops_the_handler(store: Store) -> None:
    forge = JobForge()
    started = asyncio.Event()
    stopped = asyncio.Event()

    @forge.task("long")
    async def long(payload: dict[str, Any], ctx: TaskContext) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()

    async with running_worker(store, forge) as worker:
        (job,) = await enqueue(store, NewJob(type="long"))
        await asyncio.wait_for(started.wait(), 10)
        await store.cancel_job(job.id, tenant=None)
        cancelled = await job_in(store, job.id, "cancelled")
        assert stopped.is_set() and worker.stats.cancelled == 1
    assert cancelled.finished_at is not None


async def test_stop_lets_running_jobs_finish_within_grace(store: Store) -> None:
    forge = JobForge()
    started = asyncio.Event()

    @forge.task("short")
    async def short(payload: dict[str, Any], ctx: TaskContext) -> str:
        started.set()
        await asyncio.sleep(0.3)
        return "done"

    async with running_worker(store, forge) as worker:
        (job,) = await enqueue(store, NewJob(type="short"))
        await asyncio.wait_for(started.wait(), 10)
        result = await worker.stop()
    assert result.clean and result.released == 0
    assert (await store.get_job(job.id, tenant=None)).status is JobState.COMPLETED


async def test_stop_past_grace_releases_unfinished_jobs_without_charging_them(store: Store) -> None:
    forge = JobForge()
    started = asyncio.Event()

    @forge.task("endless")
    async def endless(payload: dict[str, Any], ctx: TaskContext) -> None:
        started.set()
        await asyncio.sleep(60)

    async with running_worker(store, forge, shutdown_grace_seconds=0.2) as worker:
        (job,) = await enqueue(store, NewJob(type="endless"))
        await asyncio.wait_for(started.wait(), 10)
        result = await worker.stop()
    assert not result.clean and result.released == 1
    released = await store.get_job(job.id, tenant=None)
    assert released.status is JobState.PENDING and released.attempts == 0
    assert released.lease_token is None


async def test_force_cuts_the_grace_period_short(store: Store) -> None:
    forge = JobForge()
    started = asyncio.Event()

    @forge.task("endless")
    async def endless(payload: dict[str, Any], ctx: TaskContext) -> None:
        started.set()
        await asyncio.sleep(60)

    async with running_worker(store, forge, shutdown_grace_seconds=60) as worker:
        (job,) = await enqueue(store, NewJob(type="endless"))
        await asyncio.wait_for(started.wait(), 10)
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(0.1)
        worker.force()
        result = await asyncio.wait_for(stopping, 10)
    assert result.forced and result.released == 1
    assert (await store.get_job(job.id, tenant=None)).status is JobState.PENDING


async def test_worker_registers_and_unregisters(store: Store) -> None:
    async with running_worker(store, JobForge()) as worker:
        ids = {w.id for w in await store.list_workers()}
        assert worker.id in ids
    assert worker.id not in {w.id for w in await store.list_workers()}
