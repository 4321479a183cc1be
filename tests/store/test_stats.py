"""The metrics summary and pruning of finished jobs."""

from __future__ import annotations

from datetime import timedelta

from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ListJobsParams
from tests.store.helpers import job_in_state


async def test_metrics_summary_counts_and_recent_throughput(store: Store) -> None:
    for state in (JobState.PENDING, JobState.PENDING, JobState.COMPLETED, JobState.FAILED):
        await job_in_state(store, state, tenant="a")
    await job_in_state(store, JobState.DEAD, tenant="a")
    await job_in_state(store, JobState.SCHEDULED, tenant="b")
    await job_in_state(store, JobState.RUNNING, tenant="b")

    summary = await store.metrics_summary(tenant="a")
    assert summary.counts[JobState.PENDING] == 2
    assert summary.counts[JobState.COMPLETED] == 1
    assert summary.counts[JobState.RUNNING] == 0
    assert summary.total == 5
    assert summary.completed_last_minute == 1
    assert summary.failed_last_minute == 2  # one retried, one dead

    everyone = await store.metrics_summary(tenant=None)
    assert everyone.total == 7 and everyone.counts[JobState.SCHEDULED] == 1
    assert set(everyone.counts) == set(JobState)


async def test_delete_finished_jobs(store: Store) -> None:
    finished = [await job_in_state(store, s) for s in (JobState.COMPLETED, JobState.DEAD)]
    cancelled = await job_in_state(store, JobState.CANCELLED)
    kept = [await job_in_state(store, s) for s in (JobState.PENDING, JobState.FAILED)]
    cutoff = (await store.now()) + timedelta(seconds=1)
    assert await store.delete_finished_jobs(finished_before=cutoff, limit=2) == 2
    assert await store.delete_finished_jobs(finished_before=cutoff, limit=10) == 1
    left = {j.id for j in (await store.list_jobs(ListJobsParams(tenant=None))).items}
    assert left == {j.id for j in kept}
    assert cancelled.id not in left and not {j.id for j in finished} & left
    past = cutoff - timedelta(hours=1)
    assert await store.delete_finished_jobs(finished_before=past, limit=10) == 0
