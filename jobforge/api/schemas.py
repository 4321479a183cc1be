"""Request and response models of the v1 API (Pydantic v2), with the examples /docs shows.

Field types and their bounds live in `jobforge.api.fields`.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobforge.api.fields import (
    MAX_BATCH,
    TRACE_PATTERN,
    DocumentedAs,
    IdempotencyKey,
    JobType,
    JsonNumber,
    JsonObject,
    QueueName,
    TenantName,
    UtcDatetime,
)
from jobforge.domain.job import AttemptError, Job
from jobforge.domain.states import JobState


class ErrorBody(BaseModel):
    """What went wrong: a stable machine code, a human message, optional details."""

    code: str = Field(examples=["job_not_found"])
    message: str = Field(examples=["job 7d9f... not found"])
    details: Any = None


class ErrorEnvelope(BaseModel):
    """Every error response has this body."""

    error: ErrorBody


class JobCreate(BaseModel):
    """A job to submit. `run_at` in the future makes it `scheduled`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "email.send",
                    "queue": "emails",
                    "payload": {"to": "ada@example.com", "template": "welcome"},
                    "priority": 0,
                    "max_attempts": 5,
                    "idempotency_key": "welcome-ada",
                }
            ]
        },
    )

    type: JobType = Field(description="Handler name.")
    payload: Annotated[dict[str, Any], DocumentedAs(JsonObject)] = Field(
        default_factory=dict,
        description="JSON object handed to the handler (at most `JOBFORGE_MAX_PAYLOAD_BYTES` "
        "as compact UTF-8 JSON, 256 KiB by default).",
    )
    queue: QueueName = "default"
    priority: Annotated[int, JsonNumber] = Field(
        default=0, ge=-32768, le=32767, description="Lower runs first."
    )
    max_attempts: Annotated[int, Field(ge=1, le=1000), JsonNumber] | None = Field(
        default=None, description="Attempts before the job is dead."
    )
    run_at: UtcDatetime | None = Field(default=None, description="Not before this time.")
    timeout_seconds: (
        Annotated[float, Field(gt=0, le=7 * 24 * 3600, allow_inf_nan=False), JsonNumber] | None
    ) = Field(default=None, description="Seconds an attempt may run before it counts as failed.")
    idempotency_key: IdempotencyKey | None = Field(
        default=None, description="Same as the `Idempotency-Key` header (they must agree)."
    )
    trace_id: str | None = Field(default=None, pattern=TRACE_PATTERN)
    tenant: TenantName | None = Field(
        default=None, description="Admin keys only: submit on behalf of this tenant."
    )


class BatchCreate(BaseModel):
    """Up to 1,000 jobs, created in one transaction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "jobs": [
                        {"type": "report.generate", "payload": {"month": "2026-10"}},
                        {"type": "email.send", "queue": "emails", "payload": {"to": "a@b.c"}},
                    ]
                }
            ]
        },
    )

    jobs: list[JobCreate] = Field(min_length=1, max_length=MAX_BATCH)


class AttemptErrorOut(BaseModel):
    """One failed attempt in a job's history."""

    attempt: int
    at: datetime
    message: str
    traceback: str | None = None
    worker_id: str | None = None

    @classmethod
    def from_domain(cls, err: AttemptError) -> AttemptErrorOut:
        return cls(
            attempt=err.attempt,
            at=err.at,
            message=err.message,
            traceback=err.traceback,
            worker_id=err.worker_id,
        )


class JobOut(BaseModel):
    """A job with its whole attempt history."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7c8f2e-5d1a-4c33-9a57-3f7c2f0a9e11",
                    "tenant": "acme",
                    "type": "email.send",
                    "queue": "emails",
                    "priority": 0,
                    "payload": {"to": "ada@example.com"},
                    "status": "failed",
                    "attempts": 1,
                    "max_attempts": 3,
                    "attempts_left": 2,
                    "run_at": "2026-11-23T10:00:04Z",
                    "timeout_seconds": None,
                    "idempotency_key": "welcome-ada",
                    "result": None,
                    "last_error": "SMTP timeout",
                    "errors": [
                        {
                            "attempt": 1,
                            "at": "2026-11-23T10:00:02Z",
                            "message": "SMTP timeout",
                            "traceback": "Traceback (most recent call last): ...",
                            "worker_id": "host-1:4242",
                        }
                    ],
                    "worker_id": None,
                    "lease_expires_at": None,
                    "cancel_requested": False,
                    "trace_id": None,
                    "created_at": "2026-11-23T10:00:00Z",
                    "started_at": "2026-11-23T10:00:01Z",
                    "finished_at": None,
                    "updated_at": "2026-11-23T10:00:02Z",
                }
            ]
        }
    )

    id: uuid.UUID
    tenant: str
    type: str
    queue: str
    priority: int
    payload: dict[str, Any]
    status: JobState
    attempts: int
    max_attempts: int
    attempts_left: int
    run_at: datetime
    timeout_seconds: float | None
    idempotency_key: str | None
    result: Any
    last_error: str | None
    errors: list[AttemptErrorOut]
    worker_id: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    trace_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @field_validator("timeout_seconds")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return value if value is None or math.isfinite(value) else None

    @classmethod
    def from_domain(cls, job: Job) -> JobOut:
        """The wire form of a stored job (the lease token stays private to workers)."""
        return cls(
            id=job.id,
            tenant=job.tenant,
            type=job.type,
            queue=job.queue,
            priority=job.priority,
            payload=job.payload,
            status=job.status,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            attempts_left=job.attempts_left,
            run_at=job.run_at,
            timeout_seconds=job.timeout_seconds,
            idempotency_key=job.idempotency_key,
            result=job.result,
            last_error=job.last_error,
            errors=[AttemptErrorOut.from_domain(e) for e in job.errors],
            worker_id=job.worker_id,
            lease_expires_at=job.lease_expires_at,
            cancel_requested=job.cancel_requested,
            trace_id=job.trace_id,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            updated_at=job.updated_at,
        )


class JobList(BaseModel):
    """One page of jobs, newest first. Pass `next_cursor` as `cursor` for the next page."""

    items: list[JobOut]
    total: int | None = Field(description="Jobs matching the filters, over all pages.")
    limit: int
    offset: int
    next_cursor: str | None = Field(default=None, description="Absent on the last page.")


class BatchOut(BaseModel):
    """The jobs of a batch in request order; `created` excludes idempotent replays."""

    jobs: list[JobOut]
    created: int
    replayed: int


class DeadJobSelector(BaseModel):
    """Which dead jobs to retry; every field narrows, an empty body selects them all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"types": ["image.process"]}, {}]},
    )

    types: list[JobType] = Field(default_factory=list, max_length=100)
    queues: list[QueueName] = Field(default_factory=list, max_length=100)
    job_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_BATCH)
    tenant: TenantName | None = Field(default=None, description="Admin keys only.")


class CountOut(BaseModel):
    """How many jobs an operation moved or deleted."""

    count: int = Field(examples=[12])


class QueueOut(BaseModel):
    """One queue: job counts per state, pending length, and whether it is paused."""

    name: str
    counts: dict[JobState, int]
    length: int
    paused: bool


class QueueList(BaseModel):
    """Every queue that has jobs or a pause, for the caller's tenant."""

    items: list[QueueOut]


class Throughput(BaseModel):
    """Jobs finished in the last minute."""

    completed_last_minute: int
    failed_last_minute: int
    completed_per_second: float
    failed_per_second: float


class MetricsOut(BaseModel):
    """Counts per state for the caller's tenant (every tenant for an admin key)."""

    tenant: str | None = Field(description="None when the counts cover every tenant.")
    total_jobs: int
    pending_jobs: int
    scheduled_jobs: int
    running_jobs: int
    active_jobs: int = Field(description="Same as running_jobs.")
    completed_jobs: int
    failed_jobs: int
    dead_letter_jobs: int
    dlq_jobs: int = Field(description="Same as dead_letter_jobs.")
    cancelled_jobs: int
    queue_length: int = Field(description="Pending jobs.")
    retry_queue_length: int = Field(description="Failed jobs awaiting their retry.")
    dlq_length: int = Field(description="Dead jobs.")
    throughput: Throughput


class WorkerOut(BaseModel):
    """A live worker process."""

    id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    running: int
    started_at: datetime
    last_seen_at: datetime


class WorkerList(BaseModel):
    """Workers that heartbeated within one lease period."""

    items: list[WorkerOut]


class HealthOut(BaseModel):
    """The process answers."""

    status: str = Field(examples=["ok"])


class ReadyOut(BaseModel):
    """The store answers; `rate_limiter` says where limits are kept and whether it is up."""

    status: str = Field(examples=["ready"])
    store: str = Field(examples=["ok"])
    rate_limiter: str = Field(examples=["memory"])
