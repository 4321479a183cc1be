"""Following the store from outside its event bus: the throughput history per second, and
the jobs changed since a moment (both backends)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.store import Store
from tests.store.helpers import claim, enqueue_one, job_in_state


async def test_throughput_history_counts_per_tenant_and_second(store: Store) -> None:
    start = await store.now()
    for state in (JobState.COMPLETED, JobState.COMPLETED, JobState.FAILED, JobState.DEAD):
        await job_in_state(store, state, tenant="a")
    await job_in_state(store, JobState.COMPLETED, tenant="b")
    await job_in_state(store, JobState.CANCELLED, tenant="b")  # neither completed nor failed
    await job_in_state(store, JobState.RUNNING, tenant="b")
    end = await store.now()

    samples = await store.throughput_history(since=start - timedelta(seconds=1))
    seconds = {s.second for s in samples}
    assert seconds <= set(range(int(start.timestamp()), int(end.timestamp()) + 1))
    assert [s.second for s in samples] == sorted(s.second for s in samples)

    def totals(tenant: str) -> tuple[int, int]:
        mine = [s for s in samples if s.tenant == tenant]
        return sum(s.completed for s in mine), sum(s.failed for s in mine)

    assert totals("a") == (2, 2)  # one failed awaiting its retry, one dead
    assert totals("b") == (1, 0)
    assert await store.throughput_history(since=end + timedelta(seconds=2)) == []


async def test_recent_changes_reports_each_job_once_in_its_latest_state(store: Store) -> None:
    old = await enqueue_one(store, tenant="a", queue="changes")
    since = await store.now()
    new = await enqueue_one(store, tenant="a", queue="other")
    [running] = await claim(store, queues=("changes",))  # an old job starts: reported
    failed = await job_in_state(store, JobState.FAILED, tenant="b")
    done = await job_in_state(store, JobState.COMPLETED, tenant="b")

    changes = await store.recent_changes(since=since)
    by_id = {c.id: (c.status, c.attempts, c.tenant) for c in changes}
    assert by_id == {
        new.id: (JobState.PENDING, 0, "a"),
        old.id: (JobState.RUNNING, 1, "a"),
        failed.id: (JobState.FAILED, 1, "b"),
        done.id: (JobState.COMPLETED, 1, "b"),
    }
    assert [c.at for c in changes] == sorted(c.at for c in changes)
    assert running.id == old.id

    # The old job finishes: asking again from the last change reports it, finished.
    assert running.lease_token is not None
    await store.finish_attempts([Completed(job_id=old.id, lease_token=running.lease_token)])
    later = await store.recent_changes(since=changes[-1].at)
    assert (old.id, JobState.COMPLETED) in {(c.id, c.status) for c in later}


async def test_recent_changes_pages_through_one_instant_without_missing_any(
    store: Store,
) -> None:
    since = await store.now()
    # One batch: every job carries the same created_at, so pages must go by id within it.
    batch = await store.enqueue_jobs([NewJob(type="t", queue="paging") for _ in range(7)])
    made = {r.job.id for r in batch}
    assert len({r.job.created_at for r in batch}) == 1
    seen: list[uuid.UUID] = []
    position: tuple[datetime, uuid.UUID | None] = (since, None)
    for _ in range(10):
        page = await store.recent_changes(since=position[0], after_id=position[1], limit=3)
        assert len(page) <= 3
        seen += [c.id for c in page]
        if len(page) < 3:
            break
        position = (page[-1].at, page[-1].id)
    assert sorted(seen) == sorted(made)  # each once
