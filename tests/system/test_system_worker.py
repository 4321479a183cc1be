"""Real worker processes on both stores: kill -9, kill -STOP/-CONT, SIGTERM, several
processes, poison jobs, retries. Side effects are counted from the handlers' own files."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from system_procs import FAST_ENV, Workers

from jobforge.domain.job import Job, NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store

pytestmark = pytest.mark.system

LEASE = float(FAST_ENV["JOBFORGE_LEASE_SECONDS"])
HEARTBEAT = float(FAST_ENV["JOBFORGE_HEARTBEAT_SECONDS"])


async def enqueue(store: Store, jobs: list[NewJob]) -> list[Job]:
    created: list[Job] = []
    for i in range(0, len(jobs), 1000):
        created += [r.job for r in await store.enqueue_jobs(jobs[i : i + 1000])]
    return created


async def wait_all(store: Store, jobs: list[Job], status: JobState, timeout: float) -> list[Job]:
    deadline = time.monotonic() + timeout
    pending = {j.id for j in jobs}
    while pending:
        for job_id in list(pending):
            if (await store.get_job(job_id, tenant=None)).status is status:
                pending.discard(job_id)
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} jobs not {status} after {timeout} s")
        await asyncio.sleep(0.1)
    return [await store.get_job(j.id, tenant=None) for j in jobs]


async def wait_count(store: Store, status: JobState, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (await store.metrics_summary(tenant=None)).counts.get(status, 0) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} jobs {status} after {timeout} s")
        await asyncio.sleep(0.1)


async def test_kill_9_with_20_running_jobs(store: Store, procs: Workers) -> None:
    jobs = await enqueue(
        store, [NewJob(type="sys.hold_first", payload={"seconds": 120}) for _ in range(20)]
    )
    first = procs.start(concurrency=20)
    await procs.wait_effects("start", 20)
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.time()
    await procs.wait_exit(first, 5)
    second = procs.start(concurrency=20)

    done = await wait_all(store, jobs, JobState.COMPLETED, timeout=30)
    assert all(j.attempts == 2 and j.result["pid"] == second.pid for j in done)
    assert all(len(j.errors) == 1 and "lease expired" in j.errors[0].message for j in done)
    effects = procs.effects()
    finished = Counter(e.job_id for e in effects if e.what == "done")
    assert finished == Counter({str(j.id): 1 for j in jobs})
    # No job had two live leases: the second worker started each job only once the first
    # worker's lease (renewed at most one heartbeat before the kill) had run out.
    restarts = [e for e in effects if e.what == "start" and e.pid == second.pid]
    assert len(restarts) == 20
    assert min(e.at for e in restarts) >= killed_at + LEASE - HEARTBEAT - 0.1


async def test_paused_zombie_cannot_overwrite_the_next_attempt(
    store: Store, procs: Workers
) -> None:
    (job,) = await enqueue(store, [NewJob(type="sys.hold_first", payload={"seconds": 1.0})])
    zombie = procs.start(concurrency=1)
    await procs.wait_effects("start", 1)
    await procs.pause(zombie)
    try:
        successor = procs.start()
        (done,) = await wait_all(store, [job], JobState.COMPLETED, timeout=30)
        assert done.result == {"pid": successor.pid, "attempt": 2}
    finally:
        os.kill(zombie.pid, signal.SIGCONT)
    # Woken, the zombie's handler finishes its (long expired) attempt and tries to write.
    await procs.wait_effects("done", 2)
    deadline = time.monotonic() + 15
    while "late write refused" not in procs.log_of(zombie):
        assert time.monotonic() < deadline, procs.log_of(zombie)
        await asyncio.sleep(0.1)
    assert str(job.id) in procs.log_of(zombie)
    stored = await store.get_job(job.id, tenant=None)
    assert stored.status is JobState.COMPLETED
    assert stored.result == {"pid": successor.pid, "attempt": 2}
    zombie_done = [e for e in procs.effects() if e.what == "done" and e.pid == zombie.pid]
    assert [e.attempt for e in zombie_done] == [1]


async def test_sigterm_drains_50_one_second_jobs(store: Store, procs: Workers) -> None:
    jobs = await enqueue(
        store, [NewJob(type="sys.sleep", payload={"seconds": 1}) for _ in range(50)]
    )
    worker = procs.start(concurrency=50)
    await procs.wait_effects("start", 50)
    worker.send_signal(signal.SIGTERM)
    assert await procs.wait_exit(worker, 20) == 0
    done = await wait_all(store, jobs, JobState.COMPLETED, timeout=1)
    assert all(j.attempts == 1 for j in done)
    assert Counter(e.job_id for e in procs.effects() if e.what == "done") == Counter(
        {str(j.id): 1 for j in jobs}
    )


async def test_sigterm_past_grace_releases_jobs_for_another_worker(
    store: Store, procs: Workers
) -> None:
    jobs = await enqueue(
        store, [NewJob(type="sys.hold_first", payload={"seconds": 60}) for _ in range(5)]
    )
    first = procs.start(env={"JOBFORGE_SHUTDOWN_GRACE_SECONDS": "0.5"})
    await procs.wait_effects("start", 5)
    first.send_signal(signal.SIGTERM)
    assert await procs.wait_exit(first, 15) == 0
    released = [await store.get_job(j.id, tenant=None) for j in jobs]
    assert all(j.status is JobState.PENDING and j.attempts == 0 for j in released)
    procs.start()
    # Released (attempt refunded), so the next worker's run is attempt 1 again.
    await procs.wait_effects("start", 10, timeout=20)


async def test_four_processes_run_5000_jobs_exactly_once(store: Store, procs: Workers) -> None:
    jobs = await enqueue(store, [NewJob(type="sys.noop") for _ in range(5000)])
    pool = procs.start(processes=4, concurrency=25)
    await wait_count(store, JobState.COMPLETED, 5000, timeout=120)
    pool.send_signal(signal.SIGTERM)
    assert await procs.wait_exit(pool, 30) == 0
    runs = Counter(e.job_id for e in procs.effects() if e.what == "done")
    assert runs == Counter({str(j.id): 1 for j in jobs})
    assert len({e.pid for e in procs.effects()}) > 1


async def test_failing_job_retries_with_growing_delays_then_dies(
    store: Store, procs: Workers
) -> None:
    (job,) = await enqueue(store, [NewJob(type="sys.fail", max_attempts=4)])
    procs.start()
    (dead,) = await wait_all(store, [job], JobState.DEAD, timeout=30)
    starts = sorted(e.at for e in procs.effects() if e.what == "start")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3 and gaps[0] < gaps[1] < gaps[2]  # base 0.3 s, no jitter: 0.3, 0.6, 1.2
    assert [e.attempt for e in dead.errors] == [1, 2, 3, 4]
    for entry in dead.errors:
        assert entry.message == f"ValueError: failure number {entry.attempt}"
        assert entry.traceback is not None and "raise ValueError" in entry.traceback
    assert dead.finished_at is not None
    assert dead.finished_at - dead.created_at > timedelta(seconds=0.3 + 0.6 + 1.2)


async def test_poison_job_ends_dead_after_its_max_attempts(store: Store, procs: Workers) -> None:
    (poison,) = await enqueue(store, [NewJob(type="sys.poison", max_attempts=3)])
    pool = procs.start(processes=2)
    (dead,) = await wait_all(store, [poison], JobState.DEAD, timeout=60)
    assert dead.attempts == 3
    assert [e.attempt for e in dead.errors] == [1, 2, 3]
    assert all("lease expired" in e.message for e in dead.errors)
    assert len([e for e in procs.effects() if e.job_id == str(poison.id)]) == 3
    # The pool restarted the children it lost, so ordinary work still runs afterwards.
    others = await enqueue(store, [NewJob(type="sys.noop") for _ in range(10)])
    await wait_all(store, others, JobState.COMPLETED, timeout=30)
    pool.send_signal(signal.SIGTERM)
    assert await procs.wait_exit(pool, 30) == 0
