"""Statements on `jobforge_queue_pauses` and per-queue counts of `jobforge_jobs`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import QueueStats
from jobforge.store.sql import dialect_insert
from jobforge.store.tables import jobs, queue_pauses

ALL_TENANTS = "*"
"""The pause scope of an admin: the queue stops for every tenant."""


def pause_scope(tenant: str | None) -> str:
    return ALL_TENANTS if tenant is None else tenant


async def pause_queue(
    conn: AsyncConnection, queue: str, *, tenant: str | None, now: datetime
) -> None:
    """Pause `queue` for `tenant` (None: for everyone); pausing twice is harmless."""
    stmt = dialect_insert(conn, queue_pauses).on_conflict_do_nothing()
    await conn.execute(stmt, {"tenant": pause_scope(tenant), "queue": queue, "paused_at": now})


async def resume_queue(conn: AsyncConnection, queue: str, *, tenant: str | None) -> None:
    """Remove the pause of the same scope (an admin pause is lifted only by an admin)."""
    await conn.execute(
        delete(queue_pauses).where(
            queue_pauses.c.queue == queue, queue_pauses.c.tenant == pause_scope(tenant)
        )
    )


async def list_queues(conn: AsyncConnection, *, tenant: str | None) -> list[QueueStats]:
    """Counts by state for each queue with jobs (of this tenant) or a pause that applies.

    A tenant sees a queue as paused when it or an admin paused it; an admin sees a queue as
    paused when it is paused for everyone.
    """
    counts = select(jobs.c.queue, jobs.c.status, func.count()).group_by(jobs.c.queue, jobs.c.status)
    if tenant is not None:
        counts = counts.where(jobs.c.tenant == tenant)
    scope = [ALL_TENANTS] if tenant is None else [ALL_TENANTS, tenant]
    pauses = select(queue_pauses.c.queue).where(queue_pauses.c.tenant.in_(scope))
    by_queue: dict[str, dict[JobState, int]] = {}
    for queue, status, n in await conn.execute(counts):
        by_queue.setdefault(queue, {})[JobState(status)] = int(n)
    paused = set((await conn.execute(pauses)).scalars())
    return [
        QueueStats(name=name, counts=by_queue.get(name, {}), paused=name in paused)
        for name in sorted(by_queue.keys() | paused)
    ]
