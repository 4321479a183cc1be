"""Fenced leases, heartbeats, the rescuer and leadership, on both stores.

Crashes are simulated by writing the rows they leave behind: a claim with a short lease
that nobody renews (River's and oban-py's approach); `tests/system/` kills real processes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from worker_runtime import enqueue

from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import JobNotFound
from jobforge.domain.job import Job, NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.maintenance.leader import LeaderElector
from jobforge.maintenance.maintainer import Maintainer
from jobforge.maintenance.pruner import JobPruner
from jobforge.maintenance.rescuer import LeaseRescuer
from jobforge.store import Store
from jobforge.store.params import ClaimParams
from jobforge.worker.completer import JobCompleter
from jobforge.worker.heartbeat import LeaseHeartbeat, Leases

QUICK = Backoff(base=0.01, cap=0.02, jitter=False)


async def claim(store: Store, worker: str, lease: float = 30.0) -> list[Job]:
    return await store.claim_jobs(
        ClaimParams(worker_id=worker, queues=["default"], limit=10, lease_seconds=lease)
    )


async def expire_and_reclaim(store: Store) -> tuple[Job, Job]:
    """A job leased by zombie 'a' whose lease ran out, then rescued and claimed by 'b'."""
    await enqueue(store, NewJob(type="t"))
    (first,) = await claim(store, "a", lease=0.05)
    await asyncio.sleep(0.15)
    rescued = await LeaseRescuer(store, interval=1, backoff=QUICK).run_once()
    assert rescued.retried == 1
    await asyncio.sleep(0.05)
    (second,) = await claim(store, "b")
    assert second.id == first.id and second.lease_token != first.lease_token
    return first, second


async def test_zombie_completion_is_refused_and_counted(store: Store) -> None:
    first, second = await expire_and_reclaim(store)
    completer = JobCompleter(store)
    completer.submit(Completed(job_id=second.id, lease_token=second.lease_token, result="b"))
    completer.submit(Completed(job_id=first.id, lease_token=first.lease_token, result="a"))
    result = await completer.flush_once()
    assert result is not None and result.stale == (first.id,)
    assert completer.stats.stale == 1 and completer.stats.applied == 1
    job = await store.get_job(first.id, tenant=None)
    assert job.status is JobState.COMPLETED and job.result == "b"


async def test_heartbeat_extends_held_leases_and_reports_lost_ones(store: Store) -> None:
    first, second = await expire_and_reclaim(store)
    await enqueue(store, NewJob(type="t"))
    (mine,) = await claim(store, "a", lease=1.0)
    lost: list[Leases] = []
    beat = LeaseHeartbeat(
        store,
        worker_id="a",
        leases=lambda: {first.id: first.lease_token, mine.id: mine.lease_token},  # type: ignore[dict-item]
        on_lost=lambda leases: lost.append(leases) or list(leases),
        on_cancel_requested=lambda leases: None,
        interval=0.5,
        lease_seconds=30.0,
    )
    outcome = await beat.run_once()
    assert outcome.ok and outcome.lost == {first.id: first.lease_token}
    assert lost == [{first.id: first.lease_token}]
    renewed = await store.get_job(mine.id, tenant=None)
    assert renewed.lease_expires_at is not None and mine.lease_expires_at is not None
    assert renewed.lease_expires_at - mine.lease_expires_at > timedelta(seconds=20)
    # The other worker's lease was not touched by the zombie's heartbeat.
    assert (await store.get_job(second.id, tenant=None)).lease_token == second.lease_token


async def test_heartbeat_reports_cancel_requests(store: Store) -> None:
    await enqueue(store, NewJob(type="t"))
    (job,) = await claim(store, "a")
    await store.cancel_job(job.id, tenant=None)
    asked: list[Leases] = []
    beat = LeaseHeartbeat(
        store,
        worker_id="a",
        leases=lambda: {job.id: job.lease_token},  # type: ignore[dict-item]
        on_lost=lambda leases: None,
        on_cancel_requested=asked.append,
        interval=0.5,
        lease_seconds=30.0,
    )
    await beat.run_once()
    assert asked == [{job.id: job.lease_token}]


class _Unreachable:
    """A store whose heartbeat fails, as when the database is cut off."""

    async def heartbeat(self, params: Any) -> Any:
        raise ConnectionError("database unreachable")


async def test_unreachable_database_stops_handlers_before_the_lease_runs_out() -> None:
    now = [100.0]
    lost: list[Leases] = []
    token = uuid.uuid4()
    job_id = uuid.uuid4()
    beat = LeaseHeartbeat(
        _Unreachable(),  # type: ignore[arg-type]
        worker_id="a",
        leases=lambda: {job_id: token},
        on_lost=lambda leases: lost.append(leases) or list(leases),
        on_cancel_requested=lambda leases: None,
        interval=1.0,
        lease_seconds=10.0,
        clock=lambda: now[0],
    )
    now[0] = 105.0
    assert not (await beat.run_once()).lost  # lease still ours for ~5 s
    now[0] = 109.0  # one interval before the lease we last extended ends
    assert (await beat.run_once()).lost == {job_id: token}
    assert lost == [{job_id: token}]


async def test_rescuer_fails_expired_leases_and_kills_the_last_attempt(store: Store) -> None:
    await enqueue(store, NewJob(type="t", max_attempts=1), NewJob(type="t", max_attempts=2))
    await claim(store, "crashed", lease=0.05)
    await asyncio.sleep(0.15)
    result = await LeaseRescuer(store, interval=1, backoff=QUICK).run_once()
    assert (result.retried, result.dead) == (1, 1)
    again = await LeaseRescuer(store, interval=1, backoff=QUICK).run_once()
    assert (again.retried, again.dead) == (0, 0)


async def test_only_the_leader_runs_maintenance(store: Store) -> None:
    await enqueue(store, NewJob(type="t"))
    await claim(store, "crashed", lease=0.05)
    await asyncio.sleep(0.15)

    def maintainer(holder: str) -> Maintainer:
        elector = LeaderElector(store, holder=holder, ttl_seconds=5.0)
        return Maintainer(elector, [LeaseRescuer(store, interval=0.1, backoff=QUICK)])

    first, second = maintainer("n1"), maintainer("n2")
    a = await first.run_once()
    b = await second.run_once()
    assert a.leading and not b.leading
    assert a.ran["rescuer"].retried == 1 and b.ran == {}
    await first.elector.resign()
    assert (await second.run_once()).leading


async def test_pruner_deletes_only_jobs_finished_past_retention(store: Store) -> None:
    await enqueue(store, NewJob(type="t"))
    (job,) = await claim(store, "w")
    await store.finish_attempts([Completed(job_id=job.id, lease_token=job.lease_token)])  # type: ignore[arg-type]
    (pending,) = await enqueue(store, NewJob(type="t"))
    now = await store.now()
    keep = JobPruner(store, retention_seconds=3600, clock=lambda: now)
    assert (await keep.run_once()).deleted == 0
    later = JobPruner(store, retention_seconds=3600, clock=lambda: now + timedelta(hours=2))
    assert (await later.run_once()).deleted == 1
    assert (await store.get_job(pending.id, tenant=None)).status is JobState.PENDING
    with pytest.raises(JobNotFound):
        await store.get_job(job.id, tenant=None)
