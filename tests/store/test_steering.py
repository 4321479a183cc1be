"""Cancel, retry, delete and the dead-letter queue, from every state."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from jobforge.domain.errors import IllegalTransition, JobNotFound
from jobforge.domain.outcomes import Cancelled, Completed, Failed
from jobforge.domain.states import CANCELLABLE, FINAL, RETRYABLE_BY_USER, JobState
from jobforge.store import Store
from jobforge.store.params import DeadJobFilter
from tests.store.helpers import claim, enqueue_one, job_in_state

ALL = list(JobState)


@pytest.mark.parametrize("state", ALL, ids=[s.value for s in ALL])
async def test_cancel_from_every_state(store: Store, state: JobState) -> None:
    job = await job_in_state(store, state)
    if state in CANCELLABLE:
        cancelled = await store.cancel_job(job.id, tenant=None)
        assert cancelled.status is JobState.CANCELLED and cancelled.finished_at is not None
    elif state is JobState.RUNNING:
        asked = await store.cancel_job(job.id, tenant=None)
        assert asked.status is JobState.RUNNING and asked.cancel_requested
        assert asked.lease_token == job.lease_token
    else:
        with pytest.raises(IllegalTransition) as err:
            await store.cancel_job(job.id, tenant=None)
        assert err.value.source is state and err.value.target is JobState.CANCELLED
        assert (await store.get_job(job.id, tenant=None)).status is state


async def test_running_job_cancel_completes_as_cancelled(store: Store) -> None:
    job = await job_in_state(store, JobState.RUNNING)
    assert job.lease_token is not None
    await store.cancel_job(job.id, tenant=None)
    result = await store.finish_attempts([Cancelled(job_id=job.id, lease_token=job.lease_token)])
    assert [c.status for c in result.applied] == [JobState.CANCELLED]
    done = await store.get_job(job.id, tenant=None)
    assert done.status is JobState.CANCELLED and not done.cancel_requested


async def test_claim_clears_cancel_request(store: Store) -> None:
    job = await job_in_state(store, JobState.RUNNING, max_attempts=3)
    assert job.lease_token is not None
    await store.cancel_job(job.id, tenant=None)
    retry_at = (await store.now()) - timedelta(seconds=1)
    await store.finish_attempts(
        [Failed(job_id=job.id, lease_token=job.lease_token, message="x", retry_at=retry_at)]
    )
    [again] = await claim(store, queues=(job.queue,))
    assert again.id == job.id and not again.cancel_requested


@pytest.mark.parametrize("state", ALL, ids=[s.value for s in ALL])
async def test_retry_from_every_state(store: Store, state: JobState) -> None:
    job = await job_in_state(store, state)
    if state not in RETRYABLE_BY_USER:
        with pytest.raises(IllegalTransition) as err:
            await store.retry_job(job.id, tenant=None)
        assert err.value.source is state and err.value.target is JobState.PENDING
        return
    retried = await store.retry_job(job.id, tenant=None)
    assert retried.status is JobState.PENDING and retried.attempts == 0
    assert retried.finished_at is None and retried.result is None
    assert retried.lease_token is None and retried.run_at >= job.updated_at
    assert retried.errors == job.errors  # history kept
    [claimed] = await claim(store, queues=(job.queue,))
    assert claimed.id == job.id and claimed.attempts == 1


@pytest.mark.parametrize("state", ALL, ids=[s.value for s in ALL])
async def test_delete_from_every_state(store: Store, state: JobState) -> None:
    job = await job_in_state(store, state)
    if state is JobState.RUNNING:
        with pytest.raises(IllegalTransition):
            await store.delete_job(job.id, tenant=None)
        assert (await store.get_job(job.id, tenant=None)).status is JobState.RUNNING
        return
    await store.delete_job(job.id, tenant=None)
    with pytest.raises(JobNotFound):
        await store.get_job(job.id, tenant=None)


async def test_steering_is_tenant_scoped(store: Store) -> None:
    job = await job_in_state(store, JobState.DEAD, tenant="acme")
    for action in (store.cancel_job, store.retry_job, store.delete_job):
        with pytest.raises(JobNotFound):
            await action(job.id, tenant="intruder")
        with pytest.raises(JobNotFound):
            await action(uuid.uuid4(), tenant=None)
    assert (await store.retry_job(job.id, tenant="acme")).status is JobState.PENDING


async def test_completed_result_cleared_on_retry_is_not_possible(store: Store) -> None:
    # completed is final: neither retried nor cancelled.
    job = await job_in_state(store, JobState.COMPLETED)
    assert JobState.COMPLETED in FINAL
    with pytest.raises(IllegalTransition):
        await store.retry_job(job.id, tenant=None)
    assert (await store.get_job(job.id, tenant=None)).result == "ok"


async def test_dead_letter_retry_and_purge(store: Store) -> None:
    a = await job_in_state(store, JobState.DEAD, tenant="acme", type="email.send")
    b = await job_in_state(store, JobState.DEAD, tenant="acme", type="report.generate")
    c = await job_in_state(store, JobState.DEAD, tenant="other", type="email.send")
    failed = await job_in_state(store, JobState.FAILED, tenant="acme", type="email.send")

    changes = await store.retry_dead_jobs(DeadJobFilter(tenant="acme", types=["email.send"]))
    assert [ch.id for ch in changes] == [a.id]
    assert changes[0].status is JobState.PENDING and changes[0].queue == a.queue
    retried = await store.get_job(a.id, tenant=None)
    assert retried.status is JobState.PENDING and retried.errors == a.errors

    by_id = await store.retry_dead_jobs(DeadJobFilter(tenant=None, job_ids=[c.id]))
    assert [ch.id for ch in by_id] == [c.id]
    assert await store.retry_dead_jobs(DeadJobFilter(tenant="acme", queues=["nope"])) == []

    assert await store.purge_dead_jobs(DeadJobFilter(tenant="other")) == 0
    assert await store.purge_dead_jobs(DeadJobFilter(tenant=None)) == 1  # b
    with pytest.raises(JobNotFound):
        await store.get_job(b.id, tenant=None)
    assert (await store.get_job(failed.id, tenant=None)).status is JobState.FAILED


async def test_finished_job_is_not_running_for_heartbeat_or_finish(store: Store) -> None:
    job = await enqueue_one(store, queue="solo")
    [running] = await claim(store, queues=("solo",))
    assert running.lease_token is not None
    await store.finish_attempts([Completed(job_id=job.id, lease_token=running.lease_token)])
    late = await store.finish_attempts([Cancelled(job_id=job.id, lease_token=running.lease_token)])
    assert late.stale == (job.id,)
