"""Steering many jobs at once (the dashboard's bulk actions): cancel, retry and delete a
list of jobs in one transaction, a few statements per chunk of ids rather than a round trip
per job. The same guards as the one-job statements sit in every WHERE clause; a job whose
state does not allow the action is left alone and simply not reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import CANCELLABLE, RETRYABLE_BY_USER, JobState
from jobforge.store.params import ActionKind, JobAction, JobChange
from jobforge.store.sql import actions as actions_sql
from jobforge.store.sql import values_of
from jobforge.store.sql.jobs import change_of, retry_values
from jobforge.store.tables import job_actions, jobs

CHUNK = 500
"""Ids per statement: well under every driver's limit on bound parameters."""

_RETURNING = (jobs.c.id, jobs.c.tenant, jobs.c.type, jobs.c.queue, jobs.c.status, jobs.c.attempts)


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _scoped(stmt: Any, tenant: str | None) -> Any:
    return stmt if tenant is None else stmt.where(jobs.c.tenant == tenant)


async def _statuses(
    conn: AsyncConnection, ids: list[uuid.UUID], tenant: str | None, allowed: frozenset[JobState]
) -> dict[uuid.UUID, JobState]:
    """The current state of those of `ids` in an `allowed` state, locked (PostgreSQL)."""
    query = _scoped(
        select(jobs.c.id, jobs.c.status).where(
            jobs.c.id.in_(ids), jobs.c.status.in_(values_of(allowed))
        ),
        tenant,
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {r.id: JobState(r.status) for r in await conn.execute(query)}


async def _record(
    conn: AsyncConnection,
    changes: list[JobChange],
    before: dict[uuid.UUID, JobState],
    kind: ActionKind,
    actor: str | None,
    now: datetime,
) -> None:
    await actions_sql.record(
        conn,
        [
            JobAction(
                job_id=c.id,
                action=kind,
                from_status=before[c.id],
                to_status=c.status,
                actor=actor,
                at=now,
            )
            for c in changes
        ],
    )


async def cancel_jobs(
    conn: AsyncConnection,
    ids: Sequence[uuid.UUID],
    *,
    tenant: str | None,
    actor: str | None,
    now: datetime,
) -> list[JobChange]:
    """Cancel the cancellable ones at once and ask the running ones to stop (reported with
    status `running`); finished or absent jobs are left out."""
    out: list[JobChange] = []
    for chunk in _chunks(ids):
        before = await _statuses(conn, chunk, tenant, CANCELLABLE | {JobState.RUNNING})
        waiting = [i for i, s in before.items() if s in CANCELLABLE]
        running = [i for i, s in before.items() if s is JobState.RUNNING]
        cancelled: list[JobChange] = []
        if waiting:
            stmt = (
                update(jobs)
                .where(jobs.c.id.in_(waiting), jobs.c.status.in_(values_of(CANCELLABLE)))
                .values(
                    status=JobState.CANCELLED.value,
                    finished_at=now,
                    updated_at=now,
                    lease_token=None,
                    lease_expires_at=None,
                )
                .returning(*_RETURNING)
            )
            cancelled = [change_of(r, now) for r in await conn.execute(stmt)]
            await _record(conn, cancelled, before, ActionKind.CANCEL, actor, now)
        asked: list[JobChange] = []
        if running:
            stmt = (
                update(jobs)
                .where(jobs.c.id.in_(running), jobs.c.status == JobState.RUNNING.value)
                .values(cancel_requested=True, updated_at=now)
                .returning(*_RETURNING)
            )
            asked = [change_of(r, now) for r in await conn.execute(stmt)]
            await _record(conn, asked, before, ActionKind.CANCEL_REQUESTED, actor, now)
        out += cancelled + asked
    return out


async def retry_jobs(
    conn: AsyncConnection,
    ids: Sequence[uuid.UUID],
    *,
    tenant: str | None,
    actor: str | None,
    now: datetime,
) -> list[JobChange]:
    """Send the failed, dead or cancelled ones back to pending (attempts reset, history
    kept); the others are left out."""
    out: list[JobChange] = []
    for chunk in _chunks(ids):
        before = await _statuses(conn, chunk, tenant, RETRYABLE_BY_USER)
        if not before:
            continue
        stmt = (
            update(jobs)
            .where(jobs.c.id.in_(list(before)), jobs.c.status.in_(values_of(RETRYABLE_BY_USER)))
            .values(retry_values(now))
            .returning(*_RETURNING)
        )
        retried = [change_of(r, now) for r in await conn.execute(stmt)]
        await _record(conn, retried, before, ActionKind.RETRY, actor, now)
        out += retried
    return out


async def delete_jobs(
    conn: AsyncConnection, ids: Sequence[uuid.UUID], *, tenant: str | None
) -> int:
    """Delete those not running (and their recorded actions); returns how many."""
    deleted = 0
    for chunk in _chunks(ids):
        stmt = _scoped(
            delete(jobs)
            .where(jobs.c.id.in_(chunk), jobs.c.status != JobState.RUNNING.value)
            .returning(jobs.c.id),
            tenant,
        )
        gone = list((await conn.execute(stmt)).scalars())
        if gone:
            await conn.execute(delete(job_actions).where(job_actions.c.job_id.in_(gone)))
        deleted += len(gone)
    return deleted
