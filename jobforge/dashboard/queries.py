"""What the dashboard reads, in one place, over the `Store` protocol as it is today.

Pages never call the store directly: they call these functions, so that when the store
offers what the dashboard needs natively (text search over payloads and errors, a durable
per-job history with actors, per-second throughput history, change polling) only this module
changes. Until then each function does the honest best with what exists, and says what it
could not do (`JobListing.scanned`, the timeline's `durable` flag).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jobforge.domain.errors import IllegalTransition, JobNotFound
from jobforge.domain.job import Job
from jobforge.domain.states import JobState
from jobforge.events.hub import LiveHub
from jobforge.store.params import ListJobsParams, MetricsSummary, QueueStats, WorkerInfo
from jobforge.store.protocol import Store

SEARCH_SCAN_LIMIT = 2000
"""Payloads and errors are searched among this many newest jobs matching the other filters
(the store cannot search them yet)."""
BULK_LIMIT = 10_000
"""A bulk action on "everything matching" acts on at most this many jobs at once."""
WORKER_SEEN_SECONDS = 120


@dataclass(frozen=True, kw_only=True)
class JobListing:
    """A page of jobs. `scanned` is set when a text search looked only at that many newest
    jobs, so the page can say the search was partial."""

    items: tuple[Job, ...]
    total: int
    page: int
    per_page: int
    scanned: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def text_matches(job: Job, needle: str) -> bool:
    """Whether `needle` (lower case) occurs in the job's payload, errors or identifiers."""
    haystacks = [
        str(job.id),
        job.idempotency_key or "",
        job.type,
        json.dumps(job.payload, ensure_ascii=False),
        job.last_error or "",
        *(e.message for e in job.errors),
    ]
    return any(needle in h.lower() for h in haystacks)


async def list_jobs(
    store: Store, base: ListJobsParams, *, q: str, page: int, per_page: int
) -> JobListing:
    """A page of jobs matching `base`, and `q` in id, key, payload or error text."""
    if not q:
        offset = (page - 1) * per_page
        found = await store.list_jobs(replace(base, limit=per_page, offset=offset))
        total = found.total if found.total is not None else len(found.items)
        return JobListing(items=found.items, total=total, page=page, per_page=per_page)
    matches, scanned = await _search(store, base, q)
    start = (page - 1) * per_page
    return JobListing(
        items=tuple(matches[start : start + per_page]),
        total=len(matches),
        page=page,
        per_page=per_page,
        scanned=scanned,
    )


async def _search(store: Store, base: ListJobsParams, q: str) -> tuple[list[Job], int | None]:
    # The store matches ids and idempotency keys by prefix over every job; payload and error
    # text are matched here among the newest SEARCH_SCAN_LIMIT jobs of the other filters.
    scan = replace(base, q=None, limit=SEARCH_SCAN_LIMIT, offset=0, cursor=None, with_total=False)
    by_prefix = await _collect(store, replace(scan, q=q), SEARCH_SCAN_LIMIT)
    recent = await _collect(store, scan, SEARCH_SCAN_LIMIT)
    needle = q.lower()
    merged = {job.id: job for job in by_prefix}
    merged.update((job.id, job) for job in recent if text_matches(job, needle))
    ordered = sorted(merged.values(), key=lambda j: (j.created_at, j.id.hex), reverse=True)
    scanned = SEARCH_SCAN_LIMIT if len(recent) >= SEARCH_SCAN_LIMIT else None
    return ordered, scanned


async def _collect(store: Store, params: ListJobsParams, limit: int) -> list[Job]:
    """Up to `limit` jobs, following the store's keyset cursor page by page."""
    out: list[Job] = []
    cursor: str | None = None
    while len(out) < limit:
        page = await store.list_jobs(
            replace(params, limit=min(500, limit - len(out)), cursor=cursor, with_total=False)
        )
        out.extend(page.items)
        if page.next_cursor is None or not page.items:
            break
        cursor = page.next_cursor
    return out


async def select_jobs(store: Store, base: ListJobsParams, *, q: str) -> list[Job]:
    """Every job matching the filter (at most BULK_LIMIT), for a bulk action."""
    if q:
        return (await _search(store, base, q))[0][:BULK_LIMIT]
    return await _collect(store, base, BULK_LIMIT)


async def count_jobs(store: Store, base: ListJobsParams, *, q: str) -> int:
    """How many jobs match the filter (what a bulk action's confirmation shows)."""
    if q:
        return len((await _search(store, base, q))[0])
    page = await store.list_jobs(replace(base, limit=1, offset=0, with_total=True))
    return page.total or 0


async def jobs_by_id(store: Store, ids: list[uuid.UUID], *, tenant: str | None) -> list[Job]:
    """The selected jobs still visible to the caller (others are silently left out)."""
    found = []
    for job_id in ids[:BULK_LIMIT]:
        try:
            found.append(await store.get_job(job_id, tenant=tenant))
        except JobNotFound:
            continue
    return found


@dataclass(frozen=True, kw_only=True)
class Overview:
    """Everything the overview page shows."""

    summary: MetricsSummary
    queues: list[QueueStats]
    workers: list[WorkerInfo] | None
    throughput: list[tuple[int, int, int]]
    now: datetime


async def overview(store: Store, hub: LiveHub, *, scope: str | None, admin: bool) -> Overview:
    """Counts, queues, live workers (admins only: they span tenants) and throughput."""
    now = await store.now()
    workers = None
    if admin:
        workers = await store.list_workers(seen_after=now - timedelta(seconds=WORKER_SEEN_SECONDS))
    return Overview(
        summary=await store.metrics_summary(tenant=scope),
        queues=await store.list_queues(tenant=scope),
        workers=workers,
        throughput=hub.throughput_series(scope),
        now=now,
    )


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One moment of a job's life. `durable` entries come from the stored job; the others
    from events this process heard (with who acted), lost on restart."""

    at: datetime
    what: str
    status: JobState | None = None
    actor: str | None = None
    detail: str | None = None
    durable: bool = True


def timeline(job: Job, hub: LiveHub) -> list[TimelineEntry]:
    """The job's state changes: from its stored timestamps and attempt history, merged with
    the recent events (and their actors) this process has seen for it."""
    entries = [TimelineEntry(at=job.created_at, what="created", detail=f"queue {job.queue}")]
    for error in job.errors:
        entries.append(
            TimelineEntry(at=error.at, what=f"attempt {error.attempt} failed", detail=error.message)
        )
    if job.started_at is not None:
        entries.append(TimelineEntry(at=job.started_at, what=f"attempt {job.attempts} started"))
    if job.finished_at is not None:
        entries.append(TimelineEntry(at=job.finished_at, what="finished", status=job.status))
    for event in hub.history.of(job.id):
        entries.append(
            TimelineEntry(
                at=event.at,
                what=event.event.value.removeprefix("job_"),
                status=event.status,
                actor=event.actor,
                detail=f"attempt {event.attempt}" if event.attempt else None,
                durable=False,
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


ACTION_ERRORS = (IllegalTransition, JobNotFound)
"""What a bulk action skips for one job rather than failing for all."""
