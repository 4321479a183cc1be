"""Jobs that changed since a moment, for following the store from outside (the dashboard's
SQLite poller, when a worker in another process cannot reach this one's event bus).

No single column orders every change (`updated_at` has no index, on purpose: the hot path
writes it on every claim and finish), so each kind of change is read through an index it
already has: new jobs by `created_at`, finished ones by `finished_at` (the partial
`ix_jobs_finished`), started ones among the running few, failed ones among the failed.
A job is reported once, in its current state, at the time of its latest change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState
from jobforge.store.params import JobChange
from jobforge.store.tables import FINAL_SQL, RUNNING_SQL, UtcDateTime, jobs

Position = tuple[datetime, uuid.UUID | None]

_COLUMNS = (jobs.c.id, jobs.c.tenant, jobs.c.type, jobs.c.queue, jobs.c.status, jobs.c.attempts)


def _changes(where: Any, at: Any, position: Position, limit: int) -> Any:
    since, after_id = position
    query = select(*_COLUMNS, at.label("at"))
    if after_id is None:
        query = query.where(at >= since)
    else:
        # A row comparison: changes stamped with one instant (a batch) page by id.
        start = tuple_(literal(since, UtcDateTime()), literal(after_id, Uuid()))
        query = query.where(tuple_(at, jobs.c.id) > start)
    if where is not None:
        query = query.where(where)
    return query.order_by(at, jobs.c.id).limit(limit)


async def recent_changes(
    conn: AsyncConnection, *, since: datetime, after_id: uuid.UUID | None, limit: int
) -> list[JobChange]:
    """Jobs submitted, started, failed or finished at or after `since` (after the change
    `(since, after_id)` when given), oldest change first. When there are more than `limit`
    of a kind, only those up to the last one read are returned, so that asking again from
    the last change returned misses none."""
    position: Position = (since, after_id)
    queries = [
        _changes(None, jobs.c.created_at, position, limit),
        _changes(text(RUNNING_SQL), jobs.c.started_at, position, limit),
        _changes(jobs.c.status == JobState.FAILED.value, jobs.c.updated_at, position, limit),
        _changes(text(FINAL_SQL), jobs.c.finished_at, position, limit),
    ]
    latest: dict[uuid.UUID, JobChange] = {}
    cutoff: tuple[datetime, str] | None = None
    for query in queries:
        rows = (await conn.execute(query)).all()
        if len(rows) == limit:  # more of this kind may follow its last row
            last = (rows[-1].at, rows[-1].id.hex)
            cutoff = last if cutoff is None else min(cutoff, last)
        for row in rows:
            change = JobChange(
                id=row.id,
                tenant=row.tenant,
                type=row.type,
                queue=row.queue,
                status=JobState(row.status),
                attempts=row.attempts,
                at=row.at,
            )
            known = latest.get(change.id)
            if known is None or known.at < change.at:
                latest[change.id] = change
    changes = sorted(latest.values(), key=_order)
    return changes if cutoff is None else [c for c in changes if _order(c) <= cutoff]


def _order(change: JobChange) -> tuple[datetime, str]:
    return (change.at, change.id.hex)
