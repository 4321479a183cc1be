"""`JobControl`: the verbs every surface shares (API, dashboard, CLI through the API).

Each verb is one store call followed by the events it causes, so the API and the dashboard
cannot drift in what "retry" or "cancel" means.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog

from jobforge.domain.job import Job, NewJob
from jobforge.domain.states import JobState
from jobforge.events import EventBus
from jobforge.events.types import EventName, JobEvent, event_for_status
from jobforge.store.params import DeadJobFilter, EnqueueResult, JobChange
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)


def event_from_job(job: Job, name: EventName, *, actor: str | None = None) -> JobEvent:
    return JobEvent(
        event=name,
        job_id=job.id,
        tenant=job.tenant,
        type=job.type,
        queue=job.queue,
        status=job.status,
        attempt=job.attempts,
        at=job.updated_at,
        actor=actor,
    )


def event_from_change(change: JobChange, name: EventName, *, actor: str | None = None) -> JobEvent:
    return JobEvent(
        event=name,
        job_id=change.id,
        tenant=change.tenant,
        type=change.type,
        queue=change.queue,
        status=change.status,
        attempt=change.attempts,
        at=change.at,
        actor=actor,
    )


class JobControl:
    """Submit, cancel, retry and steer jobs, publishing the events each verb causes."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus

    async def submit(self, job: NewJob) -> EnqueueResult:
        """Enqueue one job (an idempotent replay returns the original, unpublished)."""
        return (await self.submit_many([job]))[0]

    async def submit_many(self, jobs: Sequence[NewJob]) -> list[EnqueueResult]:
        """Enqueue jobs in one transaction and announce the ones created."""
        results = await self.store.enqueue_jobs(jobs)
        await self._publish(
            [event_from_job(r.job, EventName.SUBMITTED) for r in results if r.created]
        )
        return results

    async def cancel(self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None) -> Job:
        """Cancel a job; a running one is asked to stop and is announced when it does."""
        job = await self.store.cancel_job(job_id, tenant=tenant, actor=actor)
        if job.status is JobState.CANCELLED:
            await self._publish([event_from_job(job, EventName.CANCELLED, actor=actor)])
        return job

    async def retry(self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None) -> Job:
        """Send a failed, dead or cancelled job back to pending."""
        job = await self.store.retry_job(job_id, tenant=tenant, actor=actor)
        await self._publish([event_from_job(job, EventName.RETRY, actor=actor)])
        return job

    async def delete(self, job_id: uuid.UUID, *, tenant: str | None) -> None:
        """Delete a job that is not running."""
        await self.store.delete_job(job_id, tenant=tenant)

    async def cancel_many(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None
    ) -> list[JobChange]:
        """`cancel` for many jobs in one store call; returns the jobs it applied to."""
        changes = await self.store.cancel_jobs(job_ids, tenant=tenant, actor=actor)
        await self._publish(
            [
                event_from_change(c, EventName.CANCELLED, actor=actor)
                for c in changes
                if c.status is JobState.CANCELLED
            ]
        )
        return changes

    async def retry_many(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None
    ) -> list[JobChange]:
        """`retry` for many jobs in one store call; returns the jobs it applied to."""
        changes = await self.store.retry_jobs(job_ids, tenant=tenant, actor=actor)
        await self._publish([event_from_change(c, EventName.RETRY, actor=actor) for c in changes])
        return changes

    async def delete_many(self, job_ids: Sequence[uuid.UUID], *, tenant: str | None) -> int:
        """Delete many jobs that are not running; returns how many."""
        return await self.store.delete_jobs(job_ids, tenant=tenant)

    async def retry_dead(self, selector: DeadJobFilter, *, actor: str | None) -> int:
        """Send the selected dead jobs back to pending; returns how many."""
        changes = await self.store.retry_dead_jobs(selector, actor=actor)
        await self._publish(
            [
                event_from_change(c, event_for_status(c.status, manual_retry=True), actor=actor)
                for c in changes
            ]
        )
        return len(changes)

    async def purge_dead(self, selector: DeadJobFilter) -> int:
        """Delete the selected dead jobs; returns how many."""
        return await self.store.purge_dead_jobs(selector)

    async def pause_queue(self, queue: str, *, tenant: str | None) -> None:
        await self.store.pause_queue(queue, tenant=tenant)

    async def resume_queue(self, queue: str, *, tenant: str | None) -> None:
        await self.store.resume_queue(queue, tenant=tenant)

    async def _publish(self, events: list[JobEvent]) -> None:
        if not events:
            return
        try:
            await self.bus.publish(events)
        except Exception:
            # The store already holds the truth; a lost notification only delays a
            # dashboard refresh, so it must never fail the user's request.
            log.warning("event publish failed", count=len(events), exc_info=True)
