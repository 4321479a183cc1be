"""Wake-ups: `job_arrivals` names the queues where jobs became runnable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Released
from jobforge.domain.states import JobState
from jobforge.store import Store, open_store
from tests.store.helpers import claim, enqueue, job_in_state


async def _next(names: AsyncIterator[str]) -> str:
    return await asyncio.wait_for(anext(names), timeout=5)


async def test_enqueue_retry_and_release_wake_listeners(store: Store) -> None:
    async with store.job_arrivals() as names:
        await enqueue(store, NewJob(type="t", queue="emails"), NewJob(type="t", queue="emails"))
        assert await _next(names) == "emails"  # one per queue and batch
        dead = await job_in_state(store, JobState.DEAD)
        got = {await _next(names)}  # the enqueue of the helper
        await store.retry_job(dead.id, tenant=None)
        got.add(await _next(names))
        assert got == {dead.queue}
        await enqueue(store, NewJob(type="t", queue="reports"))
        [job] = await claim(store, queues=("reports",))
        assert await _next(names) == "reports"
        assert job.lease_token is not None
        await store.finish_attempts([Released(job_id=job.id, lease_token=job.lease_token)])
        assert await _next(names) == "reports"


async def test_scheduled_jobs_do_not_wake(store: Store) -> None:
    later = (await store.now()) + timedelta(hours=1)
    async with store.job_arrivals() as names:
        await enqueue(store, NewJob(type="t", queue="later", run_at=later))
        await enqueue(store, NewJob(type="t", queue="now"))
        assert await _next(names) == "now"


async def test_postgres_wakes_other_processes(pg_database_url: str) -> None:
    listener, producer = open_store(pg_database_url), open_store(pg_database_url)
    try:
        async with listener.job_arrivals() as names:
            await enqueue(producer, NewJob(type="t", queue="cross"))
            assert await _next(names) == "cross"
    finally:
        await listener.close()
        await producer.close()
