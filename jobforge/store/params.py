"""Parameter and result values of store calls (frozen, keyword-only).

A params object lets a store call grow a field without touching every call site (River's
`*Params`). Results say what happened, including what quietly did not: `FinishResult.stale`
counts the late writes of workers that no longer held the lease.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from jobforge.domain.backoff import Backoff
from jobforge.domain.job import Job
from jobforge.domain.states import JobState


@dataclass(frozen=True, kw_only=True)
class JobChange:
    """A job's state after a store call moved it: enough to publish a lifecycle event."""

    id: uuid.UUID
    tenant: str
    type: str
    queue: str
    status: JobState
    attempts: int
    at: datetime


class ActionKind(StrEnum):
    """What a person did to a job."""

    CANCEL = "cancel"
    """Cancelled a job that was not running."""
    CANCEL_REQUESTED = "cancel_requested"
    """Asked a running job to stop (its worker reports `cancelled` when it has)."""
    RETRY = "retry"
    """Sent a failed, dead or cancelled job back to pending."""


@dataclass(frozen=True, kw_only=True)
class JobAction:
    """A durable record of a steering call: which job, from which state to which, when,
    and `actor` as the caller named itself (e.g. `dashboard:<key id>`; None if unnamed)."""

    job_id: uuid.UUID
    action: ActionKind
    from_status: JobState
    to_status: JobState
    actor: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class EnqueueResult:
    """One submitted job. `created` is False when an idempotency key matched an existing job,
    which is then the job returned."""

    job: Job
    created: bool


@dataclass(frozen=True, kw_only=True)
class ClaimParams:
    """Claim up to `limit` due jobs from `queues` for `worker_id`, leased for `lease_seconds`."""

    worker_id: str
    queues: Sequence[str]
    limit: int
    lease_seconds: float


@dataclass(frozen=True, kw_only=True)
class HeartbeatParams:
    """Extend the leases this worker holds (by token) and mark the worker as alive."""

    worker_id: str
    lease_tokens: Sequence[uuid.UUID]
    lease_seconds: float


@dataclass(frozen=True, kw_only=True)
class HeartbeatResult:
    """`held`: job ids whose lease was extended (the rest were lost to the rescuer or another
    worker). `cancel_requested`: held jobs a user asked to cancel."""

    held: frozenset[uuid.UUID]
    cancel_requested: frozenset[uuid.UUID]


@dataclass(frozen=True, kw_only=True)
class FinishResult:
    """What `finish_attempts` did: `applied` outcomes moved their job; `stale` ones were
    refused because the caller's lease token was no longer the job's current one."""

    applied: tuple[JobChange, ...]
    stale: tuple[uuid.UUID, ...]


@dataclass(frozen=True, kw_only=True)
class RescueParams:
    """Treat up to `limit` running jobs whose lease expired as failed attempts."""

    limit: int = 1000
    backoff: Backoff = field(default_factory=Backoff)


@dataclass(frozen=True, kw_only=True)
class RescueResult:
    """Jobs the rescuer moved: `retried` to `failed` with a backoff, `dead` when out of attempts."""

    retried: tuple[JobChange, ...]
    dead: tuple[JobChange, ...]


@dataclass(frozen=True, kw_only=True)
class ListJobsParams:
    """Filters and page of a job listing; newest first. `tenant=None` lists all tenants
    (admin). `q` matches a job id prefix or an idempotency key prefix. `search` is the
    dashboard's free text, case-insensitive: a job id prefix, or text anywhere in the
    idempotency key, payload, last error or attempt history (it reads every row the other
    filters leave). `cursor` (the `next_cursor` of a previous page) takes precedence over
    `offset`."""

    tenant: str | None
    statuses: Sequence[JobState] = ()
    types: Sequence[str] = ()
    queues: Sequence[str] = ()
    q: str | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = 50
    offset: int = 0
    cursor: str | None = None
    with_total: bool = True


@dataclass(frozen=True, kw_only=True)
class JobPage:
    """One page of jobs; `total` counts every job matching the filters (None if not asked)."""

    items: tuple[Job, ...]
    total: int | None
    limit: int
    offset: int
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class DeadJobFilter:
    """Which dead jobs a DLQ retry or purge acts on; `tenant=None` is every tenant (admin)."""

    tenant: str | None
    types: Sequence[str] = ()
    queues: Sequence[str] = ()
    job_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True, kw_only=True)
class QueueStats:
    """Counts of one queue's jobs by state, and whether it is paused for the caller."""

    name: str
    counts: dict[JobState, int]
    paused: bool

    @property
    def length(self) -> int:
        return self.counts.get(JobState.PENDING, 0)


@dataclass(frozen=True, kw_only=True)
class MetricsSummary:
    """Counts per state and recent throughput (jobs finished in the last minute)."""

    counts: dict[JobState, int]
    completed_last_minute: int
    failed_last_minute: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, kw_only=True)
class ThroughputSample:
    """Attempts of one tenant that ended in one second (Unix time): `completed`, and
    `failed` (the job is now `failed`, awaiting its retry, or `dead`)."""

    tenant: str
    second: int
    completed: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class WorkerInfo:
    """A worker process as registered: it refreshes `last_seen_at` with every heartbeat."""

    id: str
    host: str
    pid: int
    queues: tuple[str, ...]
    concurrency: int
    started_at: datetime
    last_seen_at: datetime
    running: int = 0
