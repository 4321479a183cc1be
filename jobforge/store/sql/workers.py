"""Statements on `jobforge_workers`, the registry of live worker processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import WorkerInfo
from jobforge.store.sql import dialect_insert
from jobforge.store.tables import jobs, workers


async def register_worker(conn: AsyncConnection, worker: WorkerInfo) -> None:
    """Insert the worker's row, or refresh it if the id is known (a restart)."""
    values = {
        "id": worker.id,
        "host": worker.host,
        "pid": worker.pid,
        "queues": list(worker.queues),
        "concurrency": worker.concurrency,
        "started_at": worker.started_at,
        "last_seen_at": worker.last_seen_at,
    }
    stmt = dialect_insert(conn, workers).values(values)
    update = {k: stmt.excluded[k] for k in values if k != "id"}
    await conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update))


async def unregister_worker(conn: AsyncConnection, worker_id: str) -> None:
    await conn.execute(delete(workers).where(workers.c.id == worker_id))


async def list_workers(conn: AsyncConnection, *, seen_after: datetime | None) -> list[WorkerInfo]:
    """Registered workers, longest running first, with how many jobs each is running."""
    running = (
        select(jobs.c.worker_id, func.count())
        .where(jobs.c.status == JobState.RUNNING.value)
        .group_by(jobs.c.worker_id)
    )
    counts = {wid: int(n) for wid, n in await conn.execute(running)}
    stmt = select(workers).order_by(workers.c.started_at, workers.c.id)
    if seen_after is not None:
        stmt = stmt.where(workers.c.last_seen_at > seen_after)
    return [
        WorkerInfo(
            id=r.id,
            host=r.host,
            pid=r.pid,
            queues=tuple(r.queues),
            concurrency=r.concurrency,
            started_at=r.started_at,
            last_seen_at=r.last_seen_at,
            running=counts.get(r.id, 0),
        )
        for r in await conn.execute(stmt)
    ]
