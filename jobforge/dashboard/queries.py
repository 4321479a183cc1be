"""What the dashboard reads, in one place, over the `Store` protocol.

Pages never call the store's listing directly: they call these functions, which turn a
page number into the store's offsets, follow its cursors for bulk actions, and gather the
overview and a job's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jobforge.dashboard.timeline import TimelineEntry, build_timeline
from jobforge.domain.job import Job
from jobforge.events.hub import LiveHub
from jobforge.store.params import ListJobsParams, MetricsSummary, QueueStats, WorkerInfo
from jobforge.store.protocol import Store

BULK_LIMIT = 10_000
"""A bulk action on "everything matching" acts on at most this many jobs at once."""
WORKER_SEEN_SECONDS = 120


@dataclass(frozen=True, kw_only=True)
class JobListing:
    """A page of jobs and how many match in all."""

    items: tuple[Job, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def list_jobs(store: Store, base: ListJobsParams, *, page: int, per_page: int) -> JobListing:
    """Page `page` of the jobs matching `base` (filters, search and scope)."""
    offset = (page - 1) * per_page
    found = await store.list_jobs(replace(base, limit=per_page, offset=offset, with_total=True))
    total = found.total if found.total is not None else len(found.items)
    return JobListing(items=found.items, total=total, page=page, per_page=per_page)


async def select_jobs(store: Store, base: ListJobsParams) -> list[Job]:
    """Every job matching the filter (at most BULK_LIMIT), for a bulk action; follows the
    store's keyset cursor, so jobs arriving meanwhile do not shift the pages."""
    out: list[Job] = []
    cursor: str | None = None
    while len(out) < BULK_LIMIT:
        params = replace(
            base, limit=min(500, BULK_LIMIT - len(out)), cursor=cursor, with_total=False
        )
        page = await store.list_jobs(params)
        out.extend(page.items)
        if page.next_cursor is None or not page.items:
            break
        cursor = page.next_cursor
    return out


async def count_jobs(store: Store, base: ListJobsParams) -> int:
    """How many jobs match the filter (what a bulk action's confirmation shows)."""
    page = await store.list_jobs(replace(base, limit=1, offset=0, with_total=True))
    return page.total or 0


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


async def timeline(
    store: Store, job: Job, hub: LiveHub, *, scope: str | None
) -> list[TimelineEntry]:
    """The job's state changes: stored timestamps, attempts and recorded actions, with the
    events this server heard filling the gaps."""
    actions = await store.job_actions(job.id, tenant=scope)
    return build_timeline(job, actions, hub.history.of(job.id))
