"""Claims, heartbeats and fenced completions: the worker's hot path."""

from __future__ import annotations

import uuid
from datetime import timedelta

from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Cancelled, Completed, Failed, Released
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import HeartbeatParams
from tests.store.helpers import LEASE, claim, close_to, enqueue, enqueue_one


async def test_claim_sets_lease_and_attempt(store: Store) -> None:
    job = await enqueue_one(store)
    now = await store.now()
    [claimed] = await claim(store, worker="w-7")
    assert claimed.id == job.id
    assert claimed.status is JobState.RUNNING and claimed.attempts == 1
    assert claimed.worker_id == "w-7" and claimed.lease_token is not None
    assert claimed.lease_expires_at is not None
    assert close_to(claimed.lease_expires_at, now + timedelta(seconds=LEASE))
    assert claimed.started_at is not None and close_to(claimed.started_at, now)
    assert await claim(store) == []  # nothing left to claim


async def test_claim_order_priority_then_run_at(store: Store) -> None:
    # A due run_at is stored as the enqueue time, so enqueue order is run_at order here.
    await enqueue(store, NewJob(type="old-low", priority=5))
    await enqueue(store, NewJob(type="late-low", priority=5))
    await enqueue(store, NewJob(type="high", priority=-1))
    claimed = await claim(store, limit=2)
    assert [j.type for j in claimed] == ["high", "old-low"]
    assert [j.type for j in await claim(store)] == ["late-low"]


async def test_claim_respects_queues_limit_and_run_at(store: Store) -> None:
    now = await store.now()
    await enqueue(
        store,
        NewJob(type="a", queue="q1"),
        NewJob(type="b", queue="q2"),
        NewJob(type="c", queue="q3"),
        NewJob(type="later", queue="q1", run_at=now + timedelta(hours=1)),
    )
    claimed = await claim(store, queues=("q1", "q2"), limit=1)
    assert len(claimed) == 1
    claimed += await claim(store, queues=("q1", "q2"), limit=10)
    assert sorted(j.type for j in claimed) == ["a", "b"]
    assert await claim(store, queues=()) == []


async def test_each_claim_gets_a_fresh_token(store: Store) -> None:
    await enqueue(store, *(NewJob(type="t") for _ in range(5)))
    claimed = await claim(store)
    assert len({j.lease_token for j in claimed}) == 5


async def test_heartbeat_extends_only_held_leases(store: Store) -> None:
    a, b = await enqueue(store, NewJob(type="a"), NewJob(type="b"))
    claimed = {j.id: j for j in await claim(store)}
    token_a = claimed[a.id].lease_token
    assert token_a is not None
    await store.cancel_job(b.id, tenant=None)  # running: only asks
    result = await store.heartbeat(
        HeartbeatParams(
            worker_id="w1",
            lease_tokens=[token_a, claimed[b.id].lease_token, uuid.uuid4()],  # type: ignore[list-item]
            lease_seconds=600,
        )
    )
    assert result.held == {a.id, b.id}
    assert result.cancel_requested == {b.id}
    fresh = await store.get_job(a.id, tenant=None)
    assert fresh.lease_expires_at is not None
    assert fresh.lease_expires_at > (await store.now()) + timedelta(seconds=500)


async def test_heartbeat_ignores_finished_jobs(store: Store) -> None:
    await enqueue_one(store)
    [job] = await claim(store)
    assert job.lease_token is not None
    await store.finish_attempts([Completed(job_id=job.id, lease_token=job.lease_token)])
    result = await store.heartbeat(
        HeartbeatParams(worker_id="w1", lease_tokens=[job.lease_token], lease_seconds=30)
    )
    assert result.held == frozenset()


async def test_finish_completed_stores_result(store: Store) -> None:
    await enqueue_one(store)
    [job] = await claim(store)
    assert job.lease_token is not None
    result = await store.finish_attempts(
        [Completed(job_id=job.id, lease_token=job.lease_token, result={"ok": [1, 2]})]
    )
    assert [c.status for c in result.applied] == [JobState.COMPLETED] and result.stale == ()
    done = await store.get_job(job.id, tenant=None)
    assert done.status is JobState.COMPLETED and done.result == {"ok": [1, 2]}
    assert done.finished_at is not None and done.lease_token is None
    assert done.lease_expires_at is None


async def test_finish_failed_with_retry_then_dead(store: Store) -> None:
    await enqueue_one(store, max_attempts=2)
    [job] = await claim(store)
    assert job.lease_token is not None
    retry_at = (await store.now()) - timedelta(seconds=1)
    await store.finish_attempts(
        [
            Failed(
                job_id=job.id,
                lease_token=job.lease_token,
                message="e1",
                traceback="tb1",
                retry_at=retry_at,
            )
        ]
    )
    failed = await store.get_job(job.id, tenant=None)
    assert failed.status is JobState.FAILED and failed.run_at == retry_at
    assert failed.last_error == "e1" and failed.finished_at is None and failed.lease_token is None
    assert [(e.attempt, e.message, e.traceback, e.worker_id) for e in failed.errors] == [
        (1, "e1", "tb1", "w1")
    ]
    [again] = await claim(store, worker="w2")
    assert again.id == job.id and again.attempts == 2
    assert again.lease_token is not None
    await store.finish_attempts(
        [Failed(job_id=job.id, lease_token=again.lease_token, message="e2")]
    )
    dead = await store.get_job(job.id, tenant=None)
    assert dead.status is JobState.DEAD and dead.finished_at is not None
    assert [(e.attempt, e.message, e.worker_id) for e in dead.errors] == [
        (1, "e1", "w1"),
        (2, "e2", "w2"),
    ]
    assert dead.last_error == "e2"


async def test_finish_cancelled_and_released(store: Store) -> None:
    await enqueue(store, NewJob(type="a"), NewJob(type="b"))
    a, b = sorted(await claim(store), key=lambda j: j.type)
    assert a.lease_token and b.lease_token
    result = await store.finish_attempts(
        [
            Cancelled(job_id=a.id, lease_token=a.lease_token),
            Released(job_id=b.id, lease_token=b.lease_token),
        ]
    )
    assert {c.id: c.status for c in result.applied} == {
        a.id: JobState.CANCELLED,
        b.id: JobState.PENDING,
    }
    cancelled = await store.get_job(a.id, tenant=None)
    assert cancelled.status is JobState.CANCELLED and cancelled.finished_at is not None
    released = await store.get_job(b.id, tenant=None)
    assert released.status is JobState.PENDING and released.attempts == 0  # refunded
    assert released.lease_token is None and released.finished_at is None
    [reclaimed] = await claim(store)
    assert reclaimed.id == b.id and reclaimed.attempts == 1


async def test_stale_token_is_refused(store: Store) -> None:
    await enqueue_one(store)
    [job] = await claim(store)
    assert job.lease_token is not None
    stale = await store.finish_attempts(
        [Completed(job_id=job.id, lease_token=uuid.uuid4(), result="zombie")]
    )
    assert stale.applied == () and stale.stale == (job.id,)
    still = await store.get_job(job.id, tenant=None)
    assert still.status is JobState.RUNNING and still.result is None
    ok = await store.finish_attempts([Completed(job_id=job.id, lease_token=job.lease_token)])
    assert len(ok.applied) == 1
    # The same outcome again: the job is no longer running, so it is stale.
    again = await store.finish_attempts([Completed(job_id=job.id, lease_token=job.lease_token)])
    assert again.stale == (job.id,)


async def test_old_lease_cannot_overwrite_the_next_attempt(store: Store) -> None:
    await enqueue_one(store)
    [first] = await claim(store, worker="slow")
    assert first.lease_token is not None
    await store.finish_attempts(
        [
            Failed(
                job_id=first.id,
                lease_token=first.lease_token,
                message="x",
                retry_at=await store.now(),
            )
        ]
    )
    [second] = await claim(store, worker="fast")
    late = await store.finish_attempts([Completed(job_id=first.id, lease_token=first.lease_token)])
    assert late.stale == (first.id,)
    assert (await store.get_job(first.id, tenant=None)).lease_token == second.lease_token


async def test_finish_nothing(store: Store) -> None:
    result = await store.finish_attempts([])
    assert result.applied == () and result.stale == ()
