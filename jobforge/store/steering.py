"""`SteeringOps`: what people do to jobs and queues (cancel, retry, delete, dead letters,
pause), each in one write transaction that also records who acted (`sql.actions`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from jobforge.domain.job import Job
from jobforge.domain.states import JobState
from jobforge.store.core import SqlCore
from jobforge.store.params import ActionKind, DeadJobFilter, JobAction, JobChange
from jobforge.store.sql import actions as actions_sql
from jobforge.store.sql import bulk as bulk_sql
from jobforge.store.sql import jobs as jobs_sql
from jobforge.store.sql import queues as queues_sql


class SteeringOps(SqlCore):
    """Cancel, retry, delete, the dead-letter queue, and queue pauses."""

    async def cancel_job(
        self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None = None
    ) -> Job:
        """Cancel now, or ask the running job's worker to stop it; recorded with `actor`."""
        async with self._write() as conn:
            now = await self._clock(conn)
            before = await actions_sql.status_for_update(conn, job_id, tenant=tenant)
            job = await jobs_sql.cancel_job(conn, job_id, tenant=tenant, now=now)
            if before is not None:
                kind = ActionKind.CANCEL
                if job.status is JobState.RUNNING:
                    kind = ActionKind.CANCEL_REQUESTED
                await actions_sql.record(conn, [_action(job.id, kind, before, job, actor, now)])
            return job

    async def retry_job(
        self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None = None
    ) -> Job:
        """failed/dead/cancelled -> pending, attempts reset, history kept; recorded."""
        async with self._write() as conn:
            now = await self._clock(conn)
            before = await actions_sql.status_for_update(conn, job_id, tenant=tenant)
            job = await jobs_sql.retry_job(conn, job_id, tenant=tenant, now=now)
            if before is not None:
                action = _action(job.id, ActionKind.RETRY, before, job, actor, now)
                await actions_sql.record(conn, [action])
            await self._notify(conn, {job.queue})
        self._announce({job.queue})
        return job

    async def delete_job(self, job_id: uuid.UUID, *, tenant: str | None) -> None:
        """Delete a job that is not running (and its recorded actions)."""
        async with self._write() as conn:
            await jobs_sql.delete_job(conn, job_id, tenant=tenant)
            await actions_sql.delete_for_job(conn, job_id)

    async def cancel_jobs(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None = None
    ) -> list[JobChange]:
        """Cancel many jobs in one transaction (running ones are asked to stop)."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await bulk_sql.cancel_jobs(conn, job_ids, tenant=tenant, actor=actor, now=now)

    async def retry_jobs(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None = None
    ) -> list[JobChange]:
        """Send many failed, dead or cancelled jobs back to pending in one transaction."""
        async with self._write() as conn:
            now = await self._clock(conn)
            changes = await bulk_sql.retry_jobs(conn, job_ids, tenant=tenant, actor=actor, now=now)
            queues = {c.queue for c in changes}
            await self._notify(conn, queues)
        self._announce(queues)
        return changes

    async def delete_jobs(self, job_ids: Sequence[uuid.UUID], *, tenant: str | None) -> int:
        """Delete many jobs that are not running, in one transaction; returns how many."""
        async with self._write() as conn:
            return await bulk_sql.delete_jobs(conn, job_ids, tenant=tenant)

    async def job_actions(self, job_id: uuid.UUID, *, tenant: str | None) -> list[JobAction]:
        """What people did to the job (cancel, retry), oldest first; empty if not visible."""
        async with self._read() as conn:
            return await actions_sql.list_for_job(conn, job_id, tenant=tenant)

    # -- dead letters ----------------------------------------------------------------------
    async def retry_dead_jobs(
        self, selector: DeadJobFilter, *, actor: str | None = None
    ) -> list[JobChange]:
        """Selected dead jobs -> pending (attempts reset, history kept); each recorded."""
        async with self._write() as conn:
            now = await self._clock(conn)
            changes = await jobs_sql.retry_dead_jobs(conn, selector, now=now)
            await actions_sql.record(
                conn,
                [
                    JobAction(
                        job_id=c.id,
                        action=ActionKind.RETRY,
                        from_status=JobState.DEAD,
                        to_status=c.status,
                        actor=actor,
                        at=now,
                    )
                    for c in changes
                ],
            )
            queues = {c.queue for c in changes}
            await self._notify(conn, queues)
        self._announce(queues)
        return changes

    async def purge_dead_jobs(self, selector: DeadJobFilter) -> int:
        """Delete the selected dead jobs; returns how many."""
        async with self._write() as conn:
            purged = await jobs_sql.purge_dead_jobs(conn, selector)
            await actions_sql.sweep_orphans(conn)
            return purged

    # -- queues ----------------------------------------------------------------------------
    async def pause_queue(self, queue: str, *, tenant: str | None) -> None:
        """Stop claims from `queue` for this tenant (`None`: for every tenant)."""
        async with self._write() as conn:
            await queues_sql.pause_queue(conn, queue, tenant=tenant, now=await self._clock(conn))

    async def resume_queue(self, queue: str, *, tenant: str | None) -> None:
        """Undo `pause_queue` for the same scope."""
        async with self._write() as conn:
            await queues_sql.resume_queue(conn, queue, tenant=tenant)
        self._announce({queue})


def _action(
    job_id: uuid.UUID,
    kind: ActionKind,
    before: JobState,
    after: Job,
    actor: str | None,
    now: datetime,
) -> JobAction:
    return JobAction(
        job_id=job_id, action=kind, from_status=before, to_status=after.status, actor=actor, at=now
    )
