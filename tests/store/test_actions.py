"""Who steered a job: cancel and retry calls leave a durable `JobAction`, on both backends,
scoped like the job, and swept when the job is deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from jobforge.domain.errors import IllegalTransition
from jobforge.domain.outcomes import Failed
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ActionKind, DeadJobFilter
from tests.store.helpers import claim, close_to, enqueue_one, job_in_state


def kinds(actions: list[object]) -> list[tuple[object, ...]]:
    return [(a.action, a.from_status, a.to_status, a.actor) for a in actions]  # type: ignore[attr-defined]


async def test_cancel_and_retry_are_recorded_with_their_actor(store: Store) -> None:
    job = await enqueue_one(store, tenant="acme")
    await store.cancel_job(job.id, tenant="acme", actor="dashboard:k1")
    await store.retry_job(job.id, tenant=None, actor="k2")
    actions = await store.job_actions(job.id, tenant="acme")
    assert kinds(actions) == [
        (ActionKind.CANCEL, JobState.PENDING, JobState.CANCELLED, "dashboard:k1"),
        (ActionKind.RETRY, JobState.CANCELLED, JobState.PENDING, "k2"),
    ]
    assert actions[0].at <= actions[1].at
    assert close_to(actions[1].at, await store.now())
    assert all(a.job_id == job.id for a in actions)


async def test_cancelling_a_running_job_records_the_request(store: Store) -> None:
    running = await job_in_state(store, JobState.RUNNING)
    await store.cancel_job(running.id, tenant=None, actor="k1")
    [action] = await store.job_actions(running.id, tenant=None)
    assert (action.action, action.from_status, action.to_status) == (
        ActionKind.CANCEL_REQUESTED,
        JobState.RUNNING,
        JobState.RUNNING,
    )


async def test_a_refused_call_records_nothing(store: Store) -> None:
    done = await job_in_state(store, JobState.COMPLETED)
    with pytest.raises(IllegalTransition):
        await store.cancel_job(done.id, tenant=None, actor="k1")
    with pytest.raises(IllegalTransition):
        await store.retry_job(done.id, tenant=None, actor="k1")
    assert await store.job_actions(done.id, tenant=None) == []


async def test_dead_letter_retries_are_recorded_per_job(store: Store) -> None:
    a = await job_in_state(store, JobState.DEAD, tenant="acme")
    b = await job_in_state(store, JobState.DEAD, tenant="acme")
    changes = await store.retry_dead_jobs(DeadJobFilter(tenant="acme"), actor="api-key")
    assert {c.id for c in changes} == {a.id, b.id}
    for job in (a, b):
        assert kinds(await store.job_actions(job.id, tenant="acme")) == [
            (ActionKind.RETRY, JobState.DEAD, JobState.PENDING, "api-key")
        ]


async def test_actions_are_scoped_to_the_jobs_tenant(store: Store) -> None:
    job = await enqueue_one(store, tenant="acme")
    await store.cancel_job(job.id, tenant="acme", actor="k1")
    assert await store.job_actions(job.id, tenant="other") == []
    assert len(await store.job_actions(job.id, tenant=None)) == 1
    assert await store.job_actions(uuid.uuid4(), tenant=None) == []


async def test_deleting_jobs_sweeps_their_actions(store: Store) -> None:
    async def acted_on(job_id: uuid.UUID) -> int:
        return len(await store.job_actions(job_id, tenant=None))

    deleted = await enqueue_one(store)
    await store.cancel_job(deleted.id, tenant=None, actor="k")
    await store.delete_job(deleted.id, tenant=None)
    assert await acted_on(deleted.id) == 0

    purged = await job_in_state(store, JobState.DEAD)
    await store.retry_dead_jobs(DeadJobFilter(tenant=None), actor="k")
    assert await acted_on(purged.id) == 1
    [again] = await claim(store, queues=(purged.queue,))  # and it dies again
    assert again.lease_token is not None
    await store.finish_attempts(
        [Failed(job_id=again.id, lease_token=again.lease_token, message="x")]
    )
    assert await store.purge_dead_jobs(DeadJobFilter(tenant=None)) == 1
    assert await acted_on(purged.id) == 0

    pruned = await enqueue_one(store)
    await store.cancel_job(pruned.id, tenant=None, actor="k")
    kept = await enqueue_one(store)
    await store.cancel_job(kept.id, tenant=None, actor="k")
    await store.retry_job(kept.id, tenant=None, actor="k")  # pending again: not prunable
    cutoff = (await store.now()) + timedelta(seconds=1)
    assert await store.delete_finished_jobs(finished_before=cutoff, limit=10) == 1
    assert await acted_on(pruned.id) == 0
    assert await acted_on(kept.id) == 2
