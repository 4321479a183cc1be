"""`SqlStore`: the bookkeeping both backends share; each backend adds only what differs.

Built in layers: `core.SqlCore` (engine, transactions, backend hooks, lifecycle),
`steering.SteeringOps` (what people do to jobs and queues), and here the rest: submitting
and reading jobs, the worker's leases, tenants, workers, leadership and stats. Every
operation is one transaction around statements from `jobforge.store.sql`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from jobforge.domain.job import Job, NewJob
from jobforge.domain.outcomes import Outcome, Released
from jobforge.domain.states import JobState
from jobforge.domain.tenants import ApiKey, Tenant
from jobforge.store.core import ARRIVALS_BUFFER, UNAVAILABLE_ERRORS
from jobforge.store.params import (
    ClaimParams,
    EnqueueResult,
    FinishResult,
    HeartbeatParams,
    HeartbeatResult,
    JobChange,
    JobPage,
    ListJobsParams,
    MetricsSummary,
    QueueStats,
    RescueParams,
    RescueResult,
    ThroughputSample,
    WorkerInfo,
)
from jobforge.store.sql import actions as actions_sql
from jobforge.store.sql import changes as changes_sql
from jobforge.store.sql import jobs as jobs_sql
from jobforge.store.sql import leadership as leadership_sql
from jobforge.store.sql import leases as leases_sql
from jobforge.store.sql import listing as listing_sql
from jobforge.store.sql import nonces as nonces_sql
from jobforge.store.sql import queues as queues_sql
from jobforge.store.sql import stats as stats_sql
from jobforge.store.sql import tenants as tenants_sql
from jobforge.store.sql import workers as workers_sql
from jobforge.store.steering import SteeringOps

__all__ = ["ARRIVALS_BUFFER", "UNAVAILABLE_ERRORS", "SqlStore"]

PENDING = JobState.PENDING


class SqlStore(SteeringOps):
    """A `Store` on SQLAlchemy Core; subclasses provide the engine and dialect hooks."""

    # -- jobs ------------------------------------------------------------------------------
    async def enqueue_jobs(self, jobs: Sequence[NewJob]) -> list[EnqueueResult]:
        """Insert jobs in one transaction; known idempotency keys return the existing job."""
        if not jobs:
            return []
        async with self._write() as conn:
            now = await self._clock(conn)
            results = await jobs_sql.insert_jobs(
                conn, jobs, now=now, default_max_attempts=self.default_max_attempts
            )
            queues = {r.job.queue for r in results if r.created and r.job.status is PENDING}
            await self._notify(conn, queues)
        self._announce(queues)
        return results

    async def get_job(self, job_id: uuid.UUID, *, tenant: str | None) -> Job:
        """One job; `JobNotFound` if absent or another tenant's."""
        async with self._read() as conn:
            return await jobs_sql.get_job(conn, job_id, tenant=tenant)

    async def list_jobs(self, params: ListJobsParams) -> JobPage:
        """A filtered page of jobs, newest first."""
        async with self._read() as conn:
            return await listing_sql.list_jobs(conn, params)

    # -- leases ----------------------------------------------------------------------------
    async def claim_jobs(self, params: ClaimParams) -> list[Job]:
        """Claim up to `limit` due jobs with fresh lease tokens."""
        async with self._write() as conn:
            return await leases_sql.claim_jobs(conn, params, now=await self._clock(conn))

    async def heartbeat(self, params: HeartbeatParams) -> HeartbeatResult:
        """Extend the leases still held; refresh the worker's registry row."""
        async with self._write() as conn:
            return await leases_sql.heartbeat(conn, params, now=await self._clock(conn))

    async def finish_attempts(self, outcomes: Sequence[Outcome]) -> FinishResult:
        """Record a batch of outcomes, each fenced by its lease token."""
        if not outcomes:
            return FinishResult(applied=(), stale=())
        async with self._write() as conn:
            result = await leases_sql.finish_attempts(conn, outcomes, now=await self._clock(conn))
            released = self._released_queues(outcomes, result)
            await self._notify(conn, released)
        self._announce(released)
        return result

    @staticmethod
    def _released_queues(outcomes: Sequence[Outcome], result: FinishResult) -> set[str]:
        released = {o.job_id for o in outcomes if isinstance(o, Released)}
        return {c.queue for c in result.applied if c.id in released}

    def job_arrivals(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]:
        """Queue names as this store object enqueues or retries jobs (in-process only)."""
        return self._local_arrivals()

    @contextlib.asynccontextmanager
    async def _local_arrivals(self) -> AsyncIterator[AsyncIterator[str]]:
        listener: asyncio.Queue[str] = asyncio.Queue(ARRIVALS_BUFFER)
        self._arrival_queues.add(listener)

        async def names() -> AsyncIterator[str]:
            while True:
                yield await listener.get()

        try:
            yield names()
        finally:
            self._arrival_queues.discard(listener)

    async def rescue_expired_leases(self, params: RescueParams) -> RescueResult:
        """Expired leases count as failed attempts: failed with backoff, or dead."""
        async with self._write() as conn:
            return await leases_sql.rescue_expired_leases(conn, params, now=await self._clock(conn))

    async def list_queues(self, *, tenant: str | None) -> list[QueueStats]:
        """Per-queue counts by state and pause state."""
        async with self._read() as conn:
            return await queues_sql.list_queues(conn, tenant=tenant)

    # -- tenants and keys ------------------------------------------------------------------
    async def create_tenant(self, name: str, *, is_admin: bool = False) -> Tenant:
        """Create a tenant; `TenantExists` if the name is taken."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await tenants_sql.create_tenant(conn, name, is_admin=is_admin, now=now)

    async def get_tenant(self, name: str) -> Tenant:
        """One tenant; `TenantNotFound` if absent."""
        async with self._read() as conn:
            return await tenants_sql.get_tenant(conn, name)

    async def list_tenants(self) -> list[Tenant]:
        """Every tenant, by name."""
        async with self._read() as conn:
            return await tenants_sql.list_tenants(conn)

    async def add_api_key(self, tenant: str, *, digest: str, prefix: str) -> ApiKey:
        """Store a new key's digest; `TenantNotFound` for an unknown tenant."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await tenants_sql.add_api_key(
                conn, tenant, digest=digest, prefix=prefix, now=now
            )

    async def use_login_nonce(self, nonce: str, *, expires_at: datetime) -> bool:
        """Record a one-time login link's nonce as used; False if it already was."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await nonces_sql.use_login_nonce(conn, nonce, expires_at=expires_at, now=now)

    async def find_api_key(self, digest: str) -> tuple[ApiKey, Tenant] | None:
        """The active key with this digest and its tenant, or None."""
        async with self._read() as conn:
            return await tenants_sql.find_api_key(conn, digest)

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        """Every key of a tenant, revoked ones included."""
        async with self._read() as conn:
            return await tenants_sql.list_api_keys(conn, tenant)

    async def revoke_api_keys(self, tenant: str, *, key_id: str | None = None) -> int:
        """Revoke one key of the tenant, or all; returns how many."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await tenants_sql.revoke_api_keys(conn, tenant, key_id=key_id, now=now)

    # -- workers ---------------------------------------------------------------------------
    async def register_worker(self, worker: WorkerInfo) -> None:
        """Insert or refresh the worker's registry row."""
        async with self._write() as conn:
            await workers_sql.register_worker(conn, worker)

    async def unregister_worker(self, worker_id: str) -> None:
        """Remove the worker's registry row."""
        async with self._write() as conn:
            await workers_sql.unregister_worker(conn, worker_id)

    async def list_workers(self, *, seen_after: datetime | None = None) -> list[WorkerInfo]:
        """Registered workers with their running job counts."""
        async with self._read() as conn:
            return await workers_sql.list_workers(conn, seen_after=seen_after)

    # -- leadership ------------------------------------------------------------------------
    async def acquire_leadership(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take or renew the named leader lease; False if another holder has it."""
        async with self._write() as conn:
            now = await self._clock(conn)
            return await leadership_sql.acquire_leadership(conn, name, holder, ttl_seconds, now=now)

    async def release_leadership(self, name: str, holder: str) -> None:
        """Give up the named lease if `holder` has it."""
        async with self._write() as conn:
            await leadership_sql.release_leadership(conn, name, holder)

    # -- stats and housekeeping ------------------------------------------------------------
    async def metrics_summary(self, *, tenant: str | None) -> MetricsSummary:
        """Counts per state and attempts finished in the last minute."""
        async with self._read() as conn:
            return await stats_sql.metrics_summary(conn, tenant=tenant, now=await self._clock(conn))

    async def throughput_history(self, *, since: datetime) -> list[ThroughputSample]:
        """Completed and failed attempts per tenant and second since `since`."""
        async with self._read() as conn:
            return await stats_sql.throughput_history(conn, since=since)

    async def recent_changes(
        self, *, since: datetime, after_id: uuid.UUID | None = None, limit: int = 1000
    ) -> list[JobChange]:
        """Jobs submitted, started, failed or finished at or after `since`."""
        async with self._read() as conn:
            return await changes_sql.recent_changes(
                conn, since=since, after_id=after_id, limit=limit
            )

    async def delete_finished_jobs(self, *, finished_before: datetime, limit: int) -> int:
        """Delete up to `limit` finished jobs older than the cutoff."""
        async with self._write() as conn:
            deleted = await stats_sql.delete_finished_jobs(
                conn, finished_before=finished_before, limit=limit
            )
            if deleted:
                await actions_sql.sweep_orphans(conn)
            return deleted

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.dialect}>"
