"""Enqueue: defaults, scheduling, idempotency keys, and reading jobs back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from jobforge.domain.errors import JobNotFound
from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store, open_store
from tests.store.helpers import close_to, enqueue, enqueue_one


async def test_enqueue_defaults_and_read_back(store: Store) -> None:
    now = await store.now()
    job = await enqueue_one(store, type="email.send", payload={"to": "a@b.c", "n": [1, 2]})
    assert job.status is JobState.PENDING
    assert job.attempts == 0
    assert job.max_attempts == 3
    assert job.queue == "default" and job.tenant == "default" and job.priority == 0
    assert close_to(job.run_at, now) and close_to(job.created_at, now)
    assert job.errors == () and job.result is None and job.lease_token is None
    again = await store.get_job(job.id, tenant="default")
    assert again == job


async def test_default_max_attempts_comes_from_open_store(store_url: str) -> None:
    store = open_store(store_url, default_max_attempts=7)
    await store.migrate()
    try:
        job = await enqueue_one(store)
        explicit = await enqueue_one(store, max_attempts=2)
        assert (job.max_attempts, explicit.max_attempts) == (7, 2)
    finally:
        await store.close()


async def test_future_run_at_is_scheduled_past_is_pending(store: Store) -> None:
    now = await store.now()
    later, earlier = now + timedelta(hours=1), now - timedelta(hours=1)
    scheduled, due = await enqueue(
        store, NewJob(type="t", run_at=later), NewJob(type="t", run_at=earlier)
    )
    assert scheduled.status is JobState.SCHEDULED and scheduled.run_at == later
    assert due.status is JobState.PENDING and due.run_at >= now


async def test_batch_is_kept_in_order_with_all_fields(store: Store) -> None:
    specs = [
        NewJob(
            type=f"t{i}",
            queue=f"q{i % 3}",
            priority=i,
            tenant="acme",
            payload={"i": i},
            timeout_seconds=1.5,
            trace_id=f"trace{i}",
        )
        for i in range(50)
    ]
    jobs = await enqueue(store, *specs)
    assert [j.type for j in jobs] == [s.type for s in specs]
    assert all(j.tenant == "acme" and j.timeout_seconds == 1.5 for j in jobs)
    assert [j.payload for j in jobs] == [{"i": i} for i in range(50)]
    assert jobs[7].trace_id == "trace7" and jobs[7].queue == "q1" and jobs[7].priority == 7


async def test_explicit_id_is_kept(store: Store) -> None:
    job_id = uuid.uuid4()
    job = await enqueue_one(store, id=job_id)
    assert job.id == job_id


async def test_idempotency_key_returns_existing_job(store: Store) -> None:
    first = await store.enqueue_jobs([NewJob(type="t", idempotency_key="k1", tenant="a")])
    second = await store.enqueue_jobs([NewJob(type="other", idempotency_key="k1", tenant="a")])
    assert first[0].created and not second[0].created
    assert second[0].job == first[0].job
    # Keys are per tenant: the same key in another tenant is another job.
    other = await store.enqueue_jobs([NewJob(type="t", idempotency_key="k1", tenant="b")])
    assert other[0].created and other[0].job.id != first[0].job.id


async def test_duplicate_key_within_one_batch(store: Store) -> None:
    results = await store.enqueue_jobs(
        [NewJob(type="t", idempotency_key="same"), NewJob(type="t", idempotency_key="same")]
    )
    assert [r.created for r in results] == [True, False]
    assert results[0].job.id == results[1].job.id


async def test_get_job_is_tenant_scoped(store: Store) -> None:
    job = await enqueue_one(store, tenant="acme")
    assert (await store.get_job(job.id, tenant=None)).id == job.id  # admin sees all
    with pytest.raises(JobNotFound):
        await store.get_job(job.id, tenant="other")
    with pytest.raises(JobNotFound):
        await store.get_job(uuid.uuid4(), tenant=None)


async def test_empty_batch(store: Store) -> None:
    assert await store.enqueue_jobs([]) == []
