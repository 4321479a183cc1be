"""Bulk steering: cancel, retry and delete many jobs in one call, with the one-job guards,
tenant scope and recorded actions (both backends)."""

from __future__ import annotations

import uuid

from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ActionKind
from jobforge.store.sql.bulk import CHUNK
from tests.store.helpers import job_in_state


async def _states(store: Store, *ids: uuid.UUID) -> list[JobState]:
    return [(await store.get_job(i, tenant=None)).status for i in ids]


async def test_cancel_jobs_cancels_waiting_asks_running_and_skips_finished(store: Store) -> None:
    pending = await job_in_state(store, JobState.PENDING, tenant="a")
    failed = await job_in_state(store, JobState.FAILED, tenant="a")
    running = await job_in_state(store, JobState.RUNNING, tenant="a")
    done = await job_in_state(store, JobState.COMPLETED, tenant="a")
    theirs = await job_in_state(store, JobState.PENDING, tenant="b")
    ids = [pending.id, failed.id, running.id, done.id, theirs.id, uuid.uuid4(), pending.id]
    changes = await store.cancel_jobs(ids, tenant="a", actor="dashboard:k")
    assert {(c.id, c.status) for c in changes} == {
        (pending.id, JobState.CANCELLED),
        (failed.id, JobState.CANCELLED),
        (running.id, JobState.RUNNING),
    }
    assert await _states(store, pending.id, running.id, done.id, theirs.id) == [
        JobState.CANCELLED,
        JobState.RUNNING,
        JobState.COMPLETED,
        JobState.PENDING,
    ]
    assert (await store.get_job(running.id, tenant=None)).cancel_requested
    [asked] = await store.job_actions(running.id, tenant=None)
    assert (asked.action, asked.actor) == (ActionKind.CANCEL_REQUESTED, "dashboard:k")
    [was_failed] = await store.job_actions(failed.id, tenant=None)
    assert (was_failed.action, was_failed.from_status) == (ActionKind.CANCEL, JobState.FAILED)


async def test_retry_jobs_moves_retryable_ones_back_to_pending(store: Store) -> None:
    dead = await job_in_state(store, JobState.DEAD)
    cancelled = await job_in_state(store, JobState.CANCELLED)
    pending = await job_in_state(store, JobState.PENDING)
    many = [await job_in_state(store, JobState.DEAD) for _ in range(3)]
    ids = [dead.id, cancelled.id, pending.id, *(j.id for j in many)]
    changes = await store.retry_jobs(ids, tenant=None, actor="k")
    assert {c.id for c in changes} == {dead.id, cancelled.id, *(j.id for j in many)}
    assert {(c.status, c.attempts) for c in changes} == {(JobState.PENDING, 0)}
    retried = await store.get_job(dead.id, tenant=None)
    assert retried.status is JobState.PENDING and len(retried.errors) == 1  # history kept
    *_, action = await store.job_actions(cancelled.id, tenant=None)  # after its cancel
    assert (action.action, action.actor) == (ActionKind.RETRY, "k")
    assert (action.from_status, action.to_status) == (JobState.CANCELLED, JobState.PENDING)
    assert await store.retry_jobs(ids, tenant="someone-else", actor="k") == []


async def test_delete_jobs_skips_running_and_other_tenants(store: Store) -> None:
    a = await job_in_state(store, JobState.DEAD, tenant="a")
    b = await job_in_state(store, JobState.PENDING, tenant="a")
    running = await job_in_state(store, JobState.RUNNING, tenant="a")
    theirs = await job_in_state(store, JobState.PENDING, tenant="b")
    await store.retry_jobs([a.id], tenant="a", actor="k")  # an action to sweep along
    assert await store.delete_jobs([a.id, b.id, running.id, theirs.id], tenant="a") == 2
    assert await store.job_actions(a.id, tenant=None) == []
    assert await _states(store, running.id, theirs.id) == [JobState.RUNNING, JobState.PENDING]
    assert await store.delete_jobs([], tenant=None) == 0


async def test_bulk_calls_take_more_ids_than_one_statement_holds(store: Store) -> None:
    made = await store.enqueue_jobs([NewJob(type="t") for _ in range(CHUNK + 7)])
    ids = [r.job.id for r in made]
    assert len(await store.cancel_jobs(ids, tenant=None)) == CHUNK + 7
    assert len(await store.retry_jobs(ids, tenant=None)) == CHUNK + 7
    assert await store.delete_jobs(ids, tenant=None) == CHUNK + 7
