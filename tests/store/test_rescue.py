"""The lease rescuer: expired leases count as failed attempts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from jobforge.domain.backoff import Backoff
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ClaimParams, RescueParams
from tests.store.helpers import claim, enqueue

NO_JITTER = Backoff(base=10.0, cap=100.0, jitter=False)


async def _claim_expiring(store: Store, queue: str, worker: str = "lost-1") -> list[object]:
    jobs = await store.claim_jobs(
        ClaimParams(worker_id=worker, queues=[queue], limit=10, lease_seconds=0.01)
    )
    await asyncio.sleep(0.05)
    return [j.id for j in jobs]


async def test_expired_leases_are_retried_or_dead(store: Store) -> None:
    retry, last = await enqueue(
        store,
        NewJob(type="t", queue="lost", max_attempts=3),
        NewJob(type="t", queue="lost", max_attempts=1),
    )
    await enqueue(store, NewJob(type="t", queue="alive"))
    [alive] = await claim(store, queues=("alive",))
    await _claim_expiring(store, "lost")

    before = await store.now()
    result = await store.rescue_expired_leases(RescueParams(backoff=NO_JITTER))
    assert [c.id for c in result.retried] == [retry.id]
    assert [c.id for c in result.dead] == [last.id]

    failed = await store.get_job(retry.id, tenant=None)
    assert failed.status is JobState.FAILED and failed.lease_token is None
    assert failed.run_at >= before + timedelta(seconds=9)  # backoff of attempt 1: 10 s
    assert failed.errors[-1].message == "lease expired (worker lost-1 lost)"
    assert failed.errors[-1].attempt == 1 and failed.last_error is not None
    dead = await store.get_job(last.id, tenant=None)
    assert dead.status is JobState.DEAD and dead.finished_at is not None
    assert (await store.get_job(alive.id, tenant=None)).status is JobState.RUNNING
    again = await store.rescue_expired_leases(RescueParams(backoff=NO_JITTER))
    assert again.retried == () and again.dead == ()


async def test_rescued_worker_cannot_finish_late(store: Store) -> None:
    await enqueue(store, NewJob(type="t", queue="lost"))
    [job] = await store.claim_jobs(
        ClaimParams(worker_id="zombie", queues=["lost"], limit=1, lease_seconds=0.01)
    )
    await asyncio.sleep(0.05)
    await store.rescue_expired_leases(RescueParams())
    assert job.lease_token is not None
    late = await store.finish_attempts([Completed(job_id=job.id, lease_token=job.lease_token)])
    assert late.stale == (job.id,)
    assert (await store.get_job(job.id, tenant=None)).status is JobState.FAILED


async def test_rescue_limit(store: Store) -> None:
    await enqueue(store, *(NewJob(type="t", queue="lost") for _ in range(5)))
    await _claim_expiring(store, "lost")
    first = await store.rescue_expired_leases(RescueParams(limit=3))
    second = await store.rescue_expired_leases(RescueParams(limit=3))
    assert (len(first.retried), len(second.retried)) == (3, 2)
