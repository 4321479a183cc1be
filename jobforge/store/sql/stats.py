"""Counts over `jobforge_jobs` for the metrics summary, and pruning of finished jobs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import MetricsSummary
from jobforge.store.tables import FINAL_SQL, jobs

RECENT = timedelta(seconds=60)


async def metrics_summary(
    conn: AsyncConnection, *, tenant: str | None, now: datetime
) -> MetricsSummary:
    """Counts per state, and attempts that completed or failed in the last minute.

    A failed attempt either left the job `failed` (its `updated_at` is the failure) or
    `dead` (its `finished_at` is); both count as recent failures.
    """
    scope = [] if tenant is None else [jobs.c.tenant == tenant]
    per_state = select(jobs.c.status, func.count()).where(*scope).group_by(jobs.c.status)
    counts = {s: 0 for s in JobState}
    for status, n in await conn.execute(per_state):
        counts[JobState(status)] = int(n)
    since = now - RECENT
    # text(FINAL_SQL) lets both dialects read recent finishes from `ix_jobs_finished`
    # instead of every completed job of all time.
    finished: list[Any] = [*scope, text(FINAL_SQL), jobs.c.finished_at >= since]
    completed = select(func.count()).where(*finished, jobs.c.status == JobState.COMPLETED.value)
    dead = select(func.count()).where(*finished, jobs.c.status == JobState.DEAD.value)
    failed = select(func.count()).where(
        *scope, jobs.c.status == JobState.FAILED.value, jobs.c.updated_at >= since
    )
    return MetricsSummary(
        counts=counts,
        completed_last_minute=int((await conn.execute(completed)).scalar_one()),
        failed_last_minute=int((await conn.execute(failed)).scalar_one())
        + int((await conn.execute(dead)).scalar_one()),
    )


async def delete_finished_jobs(
    conn: AsyncConnection, *, finished_before: datetime, limit: int
) -> int:
    """Delete up to `limit` completed, dead or cancelled jobs finished before the cutoff."""
    oldest = (
        select(jobs.c.id)
        .where(text(FINAL_SQL), jobs.c.finished_at < finished_before)
        .order_by(jobs.c.finished_at)
        .limit(limit)
    )
    return (
        await conn.execute(delete(jobs).where(jobs.c.id.in_(oldest.scalar_subquery())))
    ).rowcount
