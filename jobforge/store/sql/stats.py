"""Counts over `jobforge_jobs` for the metrics summary and the throughput history, and
pruning of finished jobs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import MetricsSummary, ThroughputSample
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


def _epoch_second(conn: AsyncConnection, column: Any) -> ColumnElement[int]:
    """The Unix second a timestamp column falls in, truncated (never rounded up)."""
    if conn.dialect.name == "sqlite":
        # Stored as naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`: drop the fraction first,
        # as strftime would round it to milliseconds.
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


async def throughput_history(conn: AsyncConnection, *, since: datetime) -> list[ThroughputSample]:
    """Per tenant and second since `since`: jobs completed, and attempts that failed as far
    as the jobs still show it (now `dead`, or `failed` awaiting a retry). A failure that
    was retried since is no longer visible here; live events count it as it happens."""
    finished_second = _epoch_second(conn, jobs.c.finished_at)
    finished = (
        select(jobs.c.tenant, finished_second, jobs.c.status, func.count())
        .where(text(FINAL_SQL), jobs.c.finished_at >= since)
        .where(jobs.c.status.in_([JobState.COMPLETED.value, JobState.DEAD.value]))
        .group_by(jobs.c.tenant, finished_second, jobs.c.status)
    )
    failed_second = _epoch_second(conn, jobs.c.updated_at)
    waiting = (
        select(jobs.c.tenant, failed_second, jobs.c.status, func.count())
        .where(jobs.c.status == JobState.FAILED.value, jobs.c.updated_at >= since)
        .group_by(jobs.c.tenant, failed_second, jobs.c.status)
    )
    samples: dict[tuple[str, int], list[int]] = {}
    for query in (finished, waiting):
        for tenant, second, status, n in await conn.execute(query):
            counts = samples.setdefault((tenant, int(second)), [0, 0])
            counts[0 if status == JobState.COMPLETED.value else 1] += int(n)
    return [
        ThroughputSample(tenant=tenant, second=second, completed=c, failed=f)
        for (tenant, second), (c, f) in sorted(samples.items(), key=lambda kv: kv[0][1])
    ]
