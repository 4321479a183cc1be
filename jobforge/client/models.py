"""What the SDK sends and returns: typed, frozen views of the API's JSON.

Response models ignore fields they do not know, so a newer server never breaks an older
client. They are the client's own (not `jobforge.domain.Job`): the wire shape leaves out
what only workers see, such as the lease token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jobforge.domain.states import FINAL, JobState


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JobRequest(BaseModel):
    """One job to submit; `None` fields are left to the server's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    queue: str | None = None
    priority: int | None = None
    max_attempts: int | None = None
    run_at: datetime | None = None
    timeout_seconds: float | None = None
    idempotency_key: str | None = None
    trace_id: str | None = None
    tenant: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body: only the fields that were set."""
        return self.model_dump(mode="json", exclude_none=True)


class AttemptInfo(_Response):
    """One failed attempt in a job's history."""

    attempt: int
    at: datetime
    message: str
    traceback: str | None = None
    worker_id: str | None = None


class JobInfo(_Response):
    """A job as the API shows it, with its attempt history."""

    id: uuid.UUID
    tenant: str
    type: str
    queue: str
    priority: int
    payload: dict[str, Any]
    status: JobState
    attempts: int
    max_attempts: int
    run_at: datetime
    timeout_seconds: float | None = None
    idempotency_key: str | None = None
    result: Any = None
    last_error: str | None = None
    errors: tuple[AttemptInfo, ...] = ()
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    trace_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime
    replayed: bool = False
    """Client-side: True when `create_job` returned an existing job for its idempotency key."""

    @property
    def finished(self) -> bool:
        """Completed, dead or cancelled: no worker will move it again."""
        return self.status in FINAL


class JobPage(_Response):
    """One page of jobs, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: tuple[JobInfo, ...]
    total: int | None = None
    limit: int
    offset: int = 0
    next_cursor: str | None = None


class BatchResult(_Response):
    """The jobs of a batch in request order; `replayed` ones matched an idempotency key."""

    jobs: tuple[JobInfo, ...]
    created: int = 0
    replayed: int = 0


class QueueInfo(_Response):
    """One queue: job counts per state, pending length and pause state."""

    name: str
    counts: dict[JobState, int] = Field(default_factory=dict)
    length: int = 0
    paused: bool = False


class Throughput(_Response):
    """Jobs finished in the last minute."""

    completed_last_minute: int = 0
    failed_last_minute: int = 0
    completed_per_second: float = 0.0
    failed_per_second: float = 0.0


class Metrics(_Response):
    """Job counts per state for the caller's tenant (every tenant for an admin key)."""

    tenant: str | None = None
    total_jobs: int
    pending_jobs: int
    scheduled_jobs: int
    running_jobs: int
    active_jobs: int
    completed_jobs: int
    failed_jobs: int
    dead_letter_jobs: int
    dlq_jobs: int
    cancelled_jobs: int
    queue_length: int
    retry_queue_length: int
    dlq_length: int
    throughput: Throughput = Field(default_factory=Throughput)

    @property
    def unfinished_jobs(self) -> int:
        """Jobs a worker will still run: pending, scheduled, running or awaiting a retry."""
        return self.pending_jobs + self.scheduled_jobs + self.running_jobs + self.failed_jobs


class WorkerInfo(_Response):
    """A live worker process."""

    id: str
    host: str
    pid: int
    queues: tuple[str, ...] = ()
    concurrency: int
    running: int = 0
    started_at: datetime
    last_seen_at: datetime


class Health(_Response):
    """`GET /health`: the process answers."""

    status: str


class Readiness(_Response):
    """`GET /ready`: the store answers; where rate limits are kept."""

    status: str
    store: str | None = None
    rate_limiter: str | None = None
