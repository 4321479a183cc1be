"""Small builders shared by the store conformance tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from jobforge.domain.job import Job, NewJob
from jobforge.domain.outcomes import Completed, Failed, Outcome
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ClaimParams

LEASE = 30.0


async def enqueue(store: Store, *jobs: NewJob) -> list[Job]:
    return [r.job for r in await store.enqueue_jobs(list(jobs))]


async def enqueue_one(store: Store, **fields: object) -> Job:
    fields.setdefault("type", "t")
    return (await enqueue(store, NewJob(**fields)))[0]  # type: ignore[arg-type]


async def claim(
    store: Store, *, queues: tuple[str, ...] = ("default",), limit: int = 10, worker: str = "w1"
) -> list[Job]:
    return await store.claim_jobs(
        ClaimParams(worker_id=worker, queues=queues, limit=limit, lease_seconds=LEASE)
    )


def close_to(a: datetime, b: datetime, seconds: float = 5.0) -> bool:
    return abs((a - b).total_seconds()) <= seconds


async def job_in_state(store: Store, state: JobState, **fields: object) -> Job:
    """A job brought to `state` through the store's own operations, in a queue of its own."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    if state is JobState.SCHEDULED:
        return await enqueue_one(
            store, queue=queue, run_at=(await store.now()) + timedelta(hours=1), **fields
        )
    job = await enqueue_one(store, queue=queue, **fields)
    if state is JobState.PENDING:
        return job
    if state is JobState.CANCELLED:
        return await store.cancel_job(job.id, tenant=None)
    [running] = await claim(store, queues=(queue,))
    token = running.lease_token
    assert token is not None
    outcome: Outcome
    if state is JobState.RUNNING:
        return running
    if state is JobState.COMPLETED:
        outcome = Completed(job_id=job.id, lease_token=token, result="ok")
    elif state is JobState.FAILED:
        retry_at = (await store.now()) + timedelta(hours=1)
        outcome = Failed(job_id=job.id, lease_token=token, message="boom", retry_at=retry_at)
    else:
        outcome = Failed(job_id=job.id, lease_token=token, message="fatal")
    await store.finish_attempts([outcome])
    return await store.get_job(job.id, tenant=None)
