"""Statements on `jobforge_jobs` for submitting, reading and steering jobs.

The steering statements (cancel, retry, delete, dead letters) are guarded UPDATEs/DELETEs:
the legal source states from `jobforge.domain.states` sit in the WHERE clause, so a race
with a worker can never overwrite a state it should not. When a guarded statement matches
nothing, the row is read again to tell `JobNotFound` from `IllegalTransition`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    delete,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.errors import IllegalTransition, JobNotFound, StoreError
from jobforge.domain.job import AttemptError, Job, NewJob
from jobforge.domain.states import (
    CANCELLABLE,
    RETRYABLE_BY_USER,
    JobState,
    can_transition,
)
from jobforge.store.params import (
    DeadJobFilter,
    EnqueueResult,
    JobChange,
)
from jobforge.store.sql import dialect_insert, values_of
from jobforge.store.tables import jobs


def row_to_job(row: Mapping[Any, Any]) -> Job:
    """Build the read model from a row of `jobforge_jobs` (SQLAlchemy or asyncpg)."""
    token = row["lease_token"]
    return Job(
        id=row["id"],
        tenant=row["tenant"],
        type=row["type"],
        queue=row["queue"],
        priority=row["priority"],
        payload=row["payload"],
        status=JobState(row["status"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        run_at=row["run_at"],
        timeout_seconds=row["timeout_seconds"],
        idempotency_key=row["idempotency_key"],
        result=row["result"],
        last_error=row["last_error"],
        errors=tuple(AttemptError.from_json(e) for e in row["errors"] or ()),
        worker_id=row["worker_id"],
        lease_token=token,
        lease_expires_at=row["lease_expires_at"],
        cancel_requested=bool(row["cancel_requested"]),
        trace_id=row["trace_id"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
    )


def change_of(job: Job | Row[Any], at: datetime) -> JobChange:
    """The lifecycle-event view of a job that just moved (a `Job` or a returned row)."""
    return JobChange(
        id=job.id,
        tenant=job.tenant,
        type=job.type,
        queue=job.queue,
        status=JobState(job.status),
        attempts=job.attempts,
        at=at,
    )


def new_job_row(job: NewJob, *, now: datetime, default_max_attempts: int) -> dict[str, Any]:
    """The row a submitted job becomes: scheduled if `run_at` is in the future, else pending."""
    scheduled = job.run_at is not None and job.run_at > now
    return {
        "id": job.id or uuid.uuid4(),
        "tenant": job.tenant,
        "type": job.type,
        "queue": job.queue,
        "priority": job.priority,
        "payload": job.payload,
        "status": (JobState.SCHEDULED if scheduled else JobState.PENDING).value,
        "attempts": 0,
        "max_attempts": job.max_attempts or default_max_attempts,
        "run_at": job.run_at if scheduled else now,
        "timeout_seconds": job.timeout_seconds,
        "idempotency_key": job.idempotency_key,
        "errors": [],
        "cancel_requested": False,
        "trace_id": job.trace_id,
        "created_at": now,
        "updated_at": now,
    }


async def insert_jobs(
    conn: AsyncConnection, new_jobs: Sequence[NewJob], *, now: datetime, default_max_attempts: int
) -> list[EnqueueResult]:
    """Insert jobs in order; a job whose (tenant, idempotency key) exists is not inserted and
    the existing job is returned instead (`created=False`).

    `ON CONFLICT DO NOTHING` then a SELECT, rather than SELECT-then-INSERT: on PostgreSQL the
    insert waits for a concurrent insert of the same key to commit, so racing submitters
    all end up with the one job.
    """
    if not new_jobs:
        return []
    rows = [new_job_row(j, now=now, default_max_attempts=default_max_attempts) for j in new_jobs]
    stmt = dialect_insert(conn, jobs).on_conflict_do_nothing().returning(*jobs.c)
    result = await conn.execute(stmt, rows)
    created = {r.id: row_to_job(r._mapping) for r in result}
    missing = [r for r in rows if r["id"] not in created]
    existing = await _jobs_by_key(conn, missing)
    out: list[EnqueueResult] = []
    for row in rows:
        if row["id"] in created:
            out.append(EnqueueResult(job=created[row["id"]], created=True))
            continue
        found = existing.get((row["tenant"], row["idempotency_key"]))
        if found is None:
            raise StoreError(f"job {row['id']} exists already")
        out.append(EnqueueResult(job=found, created=False))
    return out


async def _jobs_by_key(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, str | None], Job]:
    keyed = [(r["tenant"], r["idempotency_key"]) for r in rows if r["idempotency_key"]]
    if not keyed:
        return {}
    match = or_(*(and_(jobs.c.tenant == t, jobs.c.idempotency_key == k) for t, k in set(keyed)))
    found = await conn.execute(select(jobs).where(match))
    return {(r.tenant, r.idempotency_key): row_to_job(r._mapping) for r in found}


def _scoped(stmt: Any, tenant: str | None) -> Any:
    return stmt if tenant is None else stmt.where(jobs.c.tenant == tenant)


async def find_job(conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None) -> Job | None:
    """One job, or None if absent or another tenant's."""
    row = (await conn.execute(_scoped(select(jobs).where(jobs.c.id == job_id), tenant))).first()
    return None if row is None else row_to_job(row._mapping)


async def get_job(conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None) -> Job:
    """One job; `JobNotFound` if absent or another tenant's."""
    job = await find_job(conn, job_id, tenant=tenant)
    if job is None:
        raise JobNotFound(job_id)
    return job


async def _refuse(
    conn: AsyncConnection, job_id: uuid.UUID, tenant: str | None, target: JobState
) -> IllegalTransition:
    """After a guarded statement matched nothing: the error that explains why."""
    job = await get_job(conn, job_id, tenant=tenant)  # raises JobNotFound
    return IllegalTransition(job.status, target, job_id=job_id)


async def cancel_job(
    conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None, now: datetime
) -> Job:
    """Cancellable states -> cancelled; running -> cancel requested; finished -> refused."""
    finish = _scoped(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.status.in_(values_of(CANCELLABLE)))
        .values(
            status=JobState.CANCELLED.value,
            finished_at=now,
            updated_at=now,
            lease_token=None,
            lease_expires_at=None,
        ),
        tenant,
    )
    if (await conn.execute(finish)).rowcount == 0:
        ask = _scoped(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobState.RUNNING.value)
            .values(cancel_requested=True, updated_at=now),
            tenant,
        )
        if (await conn.execute(ask)).rowcount == 0:
            raise await _refuse(conn, job_id, tenant, JobState.CANCELLED)
    return await get_job(conn, job_id, tenant=tenant)


def retry_values(now: datetime) -> dict[str, Any]:
    # Attempts restart from zero; the error history is kept so the next failure is still
    # explained by the ones before it.
    return {
        "status": JobState.PENDING.value,
        "attempts": 0,
        "run_at": now,
        "result": null(),
        "finished_at": None,
        "worker_id": None,
        "lease_token": None,
        "lease_expires_at": None,
        "cancel_requested": False,
        "updated_at": now,
    }


async def retry_job(
    conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None, now: datetime
) -> Job:
    """failed/dead/cancelled -> pending (attempts reset, history kept)."""
    stmt = _scoped(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.status.in_(values_of(RETRYABLE_BY_USER)))
        .values(retry_values(now)),
        tenant,
    )
    if (await conn.execute(stmt)).rowcount == 0:
        raise await _refuse(conn, job_id, tenant, JobState.PENDING)
    return await get_job(conn, job_id, tenant=tenant)


async def delete_job(conn: AsyncConnection, job_id: uuid.UUID, *, tenant: str | None) -> None:
    """Delete a job unless it is running (its worker still holds a lease on it)."""
    stmt = _scoped(
        delete(jobs).where(jobs.c.id == job_id, jobs.c.status != JobState.RUNNING.value), tenant
    )
    if (await conn.execute(stmt)).rowcount == 0:
        job = await get_job(conn, job_id, tenant=tenant)
        error = IllegalTransition(job.status, JobState.CANCELLED, job_id=job_id)
        error.args = (f"job {job_id} is {job.status.value}; cancel it before deleting it",)
        raise error


def _dead_where(selector: DeadJobFilter) -> list[ColumnElement[bool]]:
    where = [jobs.c.status == JobState.DEAD.value]
    if selector.tenant is not None:
        where.append(jobs.c.tenant == selector.tenant)
    if selector.types:
        where.append(jobs.c.type.in_(list(selector.types)))
    if selector.queues:
        where.append(jobs.c.queue.in_(list(selector.queues)))
    if selector.job_ids:
        where.append(jobs.c.id.in_(list(selector.job_ids)))
    return where


async def retry_dead_jobs(
    conn: AsyncConnection, selector: DeadJobFilter, *, now: datetime
) -> list[JobChange]:
    """Selected dead jobs -> pending, as a manual retry of each."""
    assert can_transition(JobState.DEAD, JobState.PENDING)
    stmt = (
        update(jobs)
        .where(*_dead_where(selector))
        .values(retry_values(now))
        .returning(jobs.c.id, jobs.c.tenant, jobs.c.type, jobs.c.queue)
    )
    return [
        JobChange(
            id=r.id,
            tenant=r.tenant,
            type=r.type,
            queue=r.queue,
            status=JobState.PENDING,
            attempts=0,
            at=now,
        )
        for r in await conn.execute(stmt)
    ]


async def purge_dead_jobs(conn: AsyncConnection, selector: DeadJobFilter) -> int:
    """Delete the selected dead jobs; returns how many."""
    return (await conn.execute(delete(jobs).where(*_dead_where(selector)))).rowcount
