"""Statements on `jobforge_job_actions`: the durable record of who steered a job.

Steering calls (cancel, retry, DLQ retry) record an action in the transaction that moves
the job, so the record and the move commit together. Deleting jobs leaves their actions
behind for `sweep_orphans`, which the pruner and the DLQ purge run after each batch:
actions are rare (people, not workers, make them), so the sweep is cheap, and the bulk
delete statements stay as they are. Deleting one job deletes its actions directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import ActionKind, JobAction
from jobforge.store.tables import job_actions, jobs


async def status_for_update(
    conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None
) -> JobState | None:
    """The job's status, locked until the transaction ends (PostgreSQL; a SQLite write
    transaction already excludes other writers); None if absent or another tenant's."""
    query = select(jobs.c.status).where(jobs.c.id == job_id)
    if tenant is not None:
        query = query.where(jobs.c.tenant == tenant)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    status = (await conn.execute(query)).scalar_one_or_none()
    return None if status is None else JobState(status)


async def record(conn: AsyncConnection, actions: Sequence[JobAction]) -> None:
    """Insert actions (one statement for any number)."""
    if not actions:
        return
    rows = [
        {
            "job_id": a.job_id,
            "action": a.action.value,
            "from_status": a.from_status.value,
            "to_status": a.to_status.value,
            "actor": a.actor,
            "at": a.at,
        }
        for a in actions
    ]
    await conn.execute(insert(job_actions), rows)


async def list_for_job(
    conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None
) -> list[JobAction]:
    """A job's actions, oldest first; empty for a job not visible to `tenant`."""
    query = select(job_actions).where(job_actions.c.job_id == job_id)
    if tenant is not None:
        visible = select(jobs.c.id).where(jobs.c.id == job_id, jobs.c.tenant == tenant)
        query = query.where(exists(visible))
    query = query.order_by(job_actions.c.at, job_actions.c.id)
    return [
        JobAction(
            job_id=r.job_id,
            action=ActionKind(r.action),
            from_status=JobState(r.from_status),
            to_status=JobState(r.to_status),
            actor=r.actor,
            at=r.at,
        )
        for r in await conn.execute(query)
    ]


async def delete_for_job(conn: AsyncConnection, job_id: uuid.UUID) -> None:
    """Delete one job's actions (with the job, in its transaction)."""
    await conn.execute(delete(job_actions).where(job_actions.c.job_id == job_id))


async def sweep_orphans(conn: AsyncConnection) -> int:
    """Delete the actions of jobs that no longer exist; returns how many."""
    gone = ~exists(select(jobs.c.id).where(jobs.c.id == job_actions.c.job_id))
    return (await conn.execute(delete(job_actions).where(gone))).rowcount
