"""The `Store` protocol: the one seam between jobforge and its database.

Every SQL statement in jobforge lives below `jobforge.store`; SQLite and PostgreSQL
implement this protocol and pass one conformance suite (`tests/store/`). Methods are grouped
by concern. Calls that take a tenant treat `tenant=None` as "all tenants" (an admin key);
a job of another tenant is `JobNotFound`, never visible. Guarded calls say what they did in
their result (`FinishResult.stale`, `HeartbeatResult.held`) or raise `IllegalTransition`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from jobforge.domain.job import Job, NewJob
from jobforge.domain.outcomes import Outcome
from jobforge.domain.tenants import ApiKey, Tenant
from jobforge.store.params import (
    ClaimParams,
    DeadJobFilter,
    EnqueueResult,
    FinishResult,
    HeartbeatParams,
    HeartbeatResult,
    JobAction,
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


class Store(Protocol):
    """Jobs, leases, queues, tenants, workers, leadership and stats, on one database."""

    dialect: str
    """`"sqlite"` or `"postgresql"`."""

    url: str
    """The database URL as the user wrote it (secrets included: do not log it)."""

    # -- lifecycle -------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Bring the schema to the latest revision (under a lock, safe to race)."""

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""

    async def close(self) -> None:
        """Release every connection."""

    async def now(self) -> datetime:
        """The database clock (UTC), which every lease and `run_at` is compared against."""

    # -- jobs ------------------------------------------------------------------------------
    async def enqueue_jobs(self, jobs: Sequence[NewJob]) -> list[EnqueueResult]:
        """Insert jobs in one transaction, in order. A job whose idempotency key exists for its
        tenant is not inserted; the existing job is returned with `created=False`."""

    async def get_job(self, job_id: uuid.UUID, *, tenant: str | None) -> Job:
        """One job with its attempt history; `JobNotFound` if absent or another tenant's."""

    async def list_jobs(self, params: ListJobsParams) -> JobPage:
        """A filtered page of jobs, newest first."""

    async def cancel_job(
        self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None = None
    ) -> Job:
        """Cancel a pending, scheduled or failed job at once; for a running job, record the
        request (the worker stops the handler and reports `Cancelled`). A finished job is
        `IllegalTransition`. Recorded as a `JobAction` by `actor`."""

    async def retry_job(
        self, job_id: uuid.UUID, *, tenant: str | None, actor: str | None = None
    ) -> Job:
        """Move a failed, dead or cancelled job back to pending with its attempts reset and
        its history kept; `IllegalTransition` from any other state. Recorded as a
        `JobAction` by `actor`."""

    async def delete_job(self, job_id: uuid.UUID, *, tenant: str | None) -> None:
        """Delete a job that is not running; `IllegalTransition` for a running one."""

    async def cancel_jobs(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None = None
    ) -> list[JobChange]:
        """`cancel_job` for many jobs in one transaction: the cancellable ones become
        cancelled, running ones are asked to stop (reported as `running`); finished, absent
        or another tenant's jobs are left out. Each recorded as a `JobAction`."""

    async def retry_jobs(
        self, job_ids: Sequence[uuid.UUID], *, tenant: str | None, actor: str | None = None
    ) -> list[JobChange]:
        """`retry_job` for many jobs in one transaction; jobs in other states, absent or
        another tenant's are left out. Each recorded as a `JobAction`."""

    async def delete_jobs(self, job_ids: Sequence[uuid.UUID], *, tenant: str | None) -> int:
        """Delete many jobs that are not running, in one transaction; returns how many."""

    async def job_actions(self, job_id: uuid.UUID, *, tenant: str | None) -> list[JobAction]:
        """What people did to a job (cancel, retry: who, when, from which state), oldest
        first; empty for a job absent or not visible to `tenant`."""

    # -- leases (the worker's hot path) ----------------------------------------------------
    async def claim_jobs(self, params: ClaimParams) -> list[Job]:
        """Claim up to `limit` due jobs (priority, then run_at) from unpaused queues: each
        becomes running with `attempts + 1`, this worker and a fresh lease token."""

    async def heartbeat(self, params: HeartbeatParams) -> HeartbeatResult:
        """Extend, in one statement, every lease the worker still holds by token, and refresh
        the worker's registry row."""

    async def finish_attempts(self, outcomes: Sequence[Outcome]) -> FinishResult:
        """Record a batch of outcomes in one transaction, each fenced by its lease token."""

    def job_arrivals(self) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Queue names as jobs become runnable in them (enqueue, retry): LISTEN/NOTIFY on
        PostgreSQL, so any process's enqueue wakes every worker; on SQLite only this process's
        own enqueues are seen, and workers in other processes rely on a short poll."""

    async def rescue_expired_leases(self, params: RescueParams) -> RescueResult:
        """Running jobs whose lease expired count as a failed attempt: to `failed` with a
        backoff, or to `dead` when no attempts remain."""

    # -- dead letters ----------------------------------------------------------------------
    async def retry_dead_jobs(
        self, selector: DeadJobFilter, *, actor: str | None = None
    ) -> list[JobChange]:
        """Move the selected dead jobs back to pending (attempts reset, history kept), each
        recorded as a `JobAction` by `actor`."""

    async def purge_dead_jobs(self, selector: DeadJobFilter) -> int:
        """Delete the selected dead jobs; returns how many."""

    # -- queues ----------------------------------------------------------------------------
    async def pause_queue(self, queue: str, *, tenant: str | None) -> None:
        """Stop claims from `queue` for this tenant's jobs (`None`: every tenant's)."""

    async def resume_queue(self, queue: str, *, tenant: str | None) -> None:
        """Undo `pause_queue` for the same scope."""

    async def list_queues(self, *, tenant: str | None) -> list[QueueStats]:
        """Per-queue counts by state and pause state, for queues with jobs or a pause."""

    # -- tenants and keys ------------------------------------------------------------------
    async def create_tenant(self, name: str, *, is_admin: bool = False) -> Tenant:
        """Create a tenant; `TenantExists` if the name is taken."""

    async def get_tenant(self, name: str) -> Tenant:
        """One tenant; `TenantNotFound` if absent."""

    async def list_tenants(self) -> list[Tenant]:
        """Every tenant, by name."""

    async def add_api_key(self, tenant: str, *, digest: str, prefix: str) -> ApiKey:
        """Store a new key's digest for `tenant`."""

    async def use_login_nonce(self, nonce: str, *, expires_at: datetime) -> bool:
        """Record the nonce of a one-time dashboard login link as used, until `expires_at`;
        False if it was used before (in any process, before any restart)."""

    async def find_api_key(self, digest: str) -> tuple[ApiKey, Tenant] | None:
        """The active (not revoked) key with this digest and its tenant, or None."""

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        """Every key of a tenant, revoked ones included."""

    async def revoke_api_keys(self, tenant: str, *, key_id: str | None = None) -> int:
        """Revoke one key of the tenant, or all of them; returns how many were revoked."""

    # -- workers ---------------------------------------------------------------------------
    async def register_worker(self, worker: WorkerInfo) -> None:
        """Insert or refresh the worker's registry row."""

    async def unregister_worker(self, worker_id: str) -> None:
        """Remove the worker's registry row (clean shutdown)."""

    async def list_workers(self, *, seen_after: datetime | None = None) -> list[WorkerInfo]:
        """Registered workers (seen after the given time), with their running job counts."""

    # -- leadership ------------------------------------------------------------------------
    async def acquire_leadership(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take or renew the named leader lease for `holder`; False if another holds it."""

    async def release_leadership(self, name: str, holder: str) -> None:
        """Give up the named lease if `holder` has it."""

    # -- stats and housekeeping ------------------------------------------------------------
    async def metrics_summary(self, *, tenant: str | None) -> MetricsSummary:
        """Counts per state and jobs finished in the last minute."""

    async def throughput_history(self, *, since: datetime) -> list[ThroughputSample]:
        """Per tenant and second since `since`: attempts completed, and attempts failed as
        far as the jobs still show it (now dead, or failed awaiting a retry)."""

    async def recent_changes(
        self, *, since: datetime, after_id: uuid.UUID | None = None, limit: int = 1000
    ) -> list[JobChange]:
        """Jobs submitted, started, failed or finished at or after `since` (or after the
        change `(since, after_id)`: changes of one instant page by id), each once in its
        current state at its latest change, oldest first; when more than `limit` of a kind
        changed, only those up to the last one read, so asking again from the last change
        returned misses none. For following the store without its event bus."""

    async def delete_finished_jobs(self, *, finished_before: datetime, limit: int) -> int:
        """Delete up to `limit` completed, dead or cancelled jobs finished before the cutoff."""
