"""Statements on `jobforge_jobs` for the worker's leases: claim, extend, finish, rescue.

These are the portable forms, correct on both dialects: rows are read under a lock
(`FOR UPDATE [SKIP LOCKED]` on PostgreSQL; SQLite's write transaction already excludes every
other writer), new values are computed here, and one executemany writes them back, fenced
by the lease token. `PostgresStore` replaces the hot ones with single statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.job import AttemptError, Job
from jobforge.domain.outcomes import Cancelled, Completed, Failed, Outcome, Released
from jobforge.domain.states import JobState
from jobforge.store.params import (
    ClaimParams,
    FinishResult,
    HeartbeatParams,
    HeartbeatResult,
    JobChange,
    RescueParams,
    RescueResult,
)
from jobforge.store.sql import JsonOrNull
from jobforge.store.sql.jobs import row_to_job
from jobforge.store.tables import (
    RUNNABLE_SQL,
    RUNNING_SQL,
    UtcDateTime,
    jobs,
    queue_pauses,
    workers,
)

RUNNING = JobState.RUNNING.value


def _not_paused() -> Any:
    # A pause row for (the job's tenant, queue) or ('*', queue) holds the job back.
    paused = select(queue_pauses.c.queue).where(
        queue_pauses.c.queue == jobs.c.queue,
        or_(queue_pauses.c.tenant == jobs.c.tenant, queue_pauses.c.tenant == "*"),
    )
    return ~exists(paused)


def due_jobs_query(queues: Sequence[str], limit: int, now: datetime) -> Any:
    """Ids of due, runnable jobs of unpaused queues, in claim order (priority, run_at)."""
    return (
        select(jobs.c.id)
        .where(
            text(RUNNABLE_SQL),
            jobs.c.queue.in_(list(queues)),
            jobs.c.run_at <= now,
            _not_paused(),
        )
        .order_by(jobs.c.priority, jobs.c.run_at)
        .limit(limit)
    )


async def claim_jobs(conn: AsyncConnection, p: ClaimParams, *, now: datetime) -> list[Job]:
    """Claim up to `p.limit` due jobs: running, attempts + 1, a fresh lease token each.

    One statement: `UPDATE ... WHERE id IN (due ids) RETURNING *`. The fresh token is made
    by the database for each row, so no per-row parameters travel for a batch claim.
    """
    if p.limit <= 0 or not p.queues:
        return []
    due = due_jobs_query(p.queues, p.limit, now)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
        token: Any = func.gen_random_uuid()
    else:
        token = func.lower(func.hex(func.randomblob(16)))
    stmt = (
        update(jobs)
        .where(jobs.c.id.in_(due.scalar_subquery()))
        .values(
            status=RUNNING,
            attempts=jobs.c.attempts + 1,
            worker_id=p.worker_id,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=p.lease_seconds),
            started_at=now,
            updated_at=now,
            cancel_requested=False,
        )
        .returning(*jobs.c)
    )
    claimed = [row_to_job(r._mapping) for r in await conn.execute(stmt)]
    # RETURNING comes in no particular order; hand jobs out in claim order.
    claimed.sort(key=lambda j: (j.priority, j.run_at))
    return claimed


async def heartbeat(conn: AsyncConnection, p: HeartbeatParams, *, now: datetime) -> HeartbeatResult:
    """Extend every lease still held by one of `p.lease_tokens`; refresh the worker row."""
    await conn.execute(update(workers).where(workers.c.id == p.worker_id).values(last_seen_at=now))
    if not p.lease_tokens:
        return HeartbeatResult(held=frozenset(), cancel_requested=frozenset())
    stmt = (
        update(jobs)
        .where(text(RUNNING_SQL), jobs.c.lease_token.in_(list(p.lease_tokens)))
        .values(lease_expires_at=now + timedelta(seconds=p.lease_seconds))
        .returning(jobs.c.id, jobs.c.cancel_requested)
    )
    rows = (await conn.execute(stmt)).all()
    return HeartbeatResult(
        held=frozenset(r.id for r in rows),
        cancel_requested=frozenset(r.id for r in rows if r.cancel_requested),
    )


_WRITE_BACK = (
    update(jobs)
    .where(
        jobs.c.id == bindparam("b_id"),
        jobs.c.lease_token == bindparam("b_token"),
        jobs.c.status == RUNNING,
    )
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        run_at=bindparam("b_run_at", type_=UtcDateTime()),
        finished_at=bindparam("b_finished_at", type_=UtcDateTime()),
        result=bindparam("b_result", type_=JsonOrNull),
        errors=bindparam("b_errors", type_=jobs.c.errors.type),
        last_error=bindparam("b_last_error"),
        lease_token=None,
        lease_expires_at=None,
        cancel_requested=False,
        updated_at=bindparam("b_now", type_=UtcDateTime()),
    )
)
"""Write a running job's next state, only while the caller's lease token is current."""


def _error_entry(row: Row[Any], message: str, traceback: str | None, now: datetime) -> Any:
    entry = AttemptError(
        attempt=row.attempts, at=now, message=message, traceback=traceback, worker_id=row.worker_id
    )
    return [*(row.errors or []), entry.to_json()]


def _next_state(row: Row[Any], outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The write-back parameters that apply `outcome` to the locked running `row`."""
    values: dict[str, Any] = {
        "b_id": row.id,
        "b_token": row.lease_token,
        "b_now": now,
        "b_attempts": row.attempts,
        "b_run_at": row.run_at,
        "b_finished_at": None,
        "b_result": row.result,
        "b_errors": row.errors,
        "b_last_error": row.last_error,
    }
    if isinstance(outcome, Completed):
        values.update(b_status=JobState.COMPLETED.value, b_result=outcome.result, b_finished_at=now)
    elif isinstance(outcome, Failed):
        dead = outcome.retry_at is None
        values.update(
            b_status=(JobState.DEAD if dead else JobState.FAILED).value,
            b_run_at=row.run_at if outcome.retry_at is None else outcome.retry_at,
            b_finished_at=now if dead else None,
            b_errors=_error_entry(row, outcome.message, outcome.traceback, now),
            b_last_error=outcome.message,
        )
    elif isinstance(outcome, Cancelled):
        values.update(b_status=JobState.CANCELLED.value, b_finished_at=now)
    elif isinstance(outcome, Released):
        # The attempt charged on claim is refunded: a shutdown must not eat a retry.
        values.update(
            b_status=JobState.PENDING.value, b_attempts=max(row.attempts - 1, 0), b_run_at=now
        )
    return values


async def finish_attempts(
    conn: AsyncConnection, outcomes: Sequence[Outcome], *, now: datetime
) -> FinishResult:
    """Apply each outcome whose lease token is still its running job's; the rest are stale."""
    if not outcomes:
        return FinishResult(applied=(), stale=())
    query = select(jobs).where(
        jobs.c.id.in_([o.job_id for o in outcomes]), jobs.c.status == RUNNING
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    running = {r.id: r for r in await conn.execute(query)}
    params: list[dict[str, Any]] = []
    applied: list[JobChange] = []
    stale: list[uuid.UUID] = []
    for outcome in outcomes:
        row = running.pop(outcome.job_id, None)  # pop: a duplicate outcome is stale
        if row is None or row.lease_token != outcome.lease_token:
            stale.append(outcome.job_id)
            continue
        values = _next_state(row, outcome, now)
        params.append(values)
        applied.append(_change(row, values, now))
    if params:
        await conn.execute(_WRITE_BACK, params)
    return FinishResult(applied=tuple(applied), stale=tuple(stale))


def _change(row: Row[Any], values: dict[str, Any], now: datetime) -> JobChange:
    return JobChange(
        id=row.id,
        tenant=row.tenant,
        type=row.type,
        queue=row.queue,
        status=JobState(values["b_status"]),
        attempts=values["b_attempts"],
        at=now,
    )


async def rescue_expired_leases(
    conn: AsyncConnection, p: RescueParams, *, now: datetime
) -> RescueResult:
    """Running jobs whose lease expired: a failed attempt, retried with backoff or dead."""
    query = (
        select(jobs)
        .where(text(RUNNING_SQL), jobs.c.lease_expires_at < now)
        .order_by(jobs.c.lease_expires_at)
        .limit(p.limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    retried: list[JobChange] = []
    dead: list[JobChange] = []
    params: list[dict[str, Any]] = []
    for row in await conn.execute(query):
        message = f"lease expired (worker {row.worker_id} lost)"
        if row.attempts < row.max_attempts:
            retry_at = now + timedelta(seconds=p.backoff.delay(row.attempts))
            outcome: Outcome = Failed(
                job_id=row.id, lease_token=row.lease_token, message=message, retry_at=retry_at
            )
        else:
            outcome = Failed(job_id=row.id, lease_token=row.lease_token, message=message)
        values = _next_state(row, outcome, now)
        params.append(values)
        (retried if values["b_status"] == JobState.FAILED.value else dead).append(
            _change(row, values, now)
        )
    if params:
        await conn.execute(_WRITE_BACK, params)
    return RescueResult(retried=tuple(retried), dead=tuple(dead))
