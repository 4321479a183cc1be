"""Request and response models of the v1 API (Pydantic v2), with the examples /docs shows.

Bounds here are what keeps bad input a 4xx rather than a database error: names are short
printable identifiers, integers fit the columns, floats are finite, and datetimes are
converted to UTC up front (an offset near year 1 or 9999 would overflow later). Payload
contents are checked by `jobforge.api.payloads`.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    RootModel,
    TypeAdapter,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from jobforge.domain.job import AttemptError, Job
from jobforge.domain.states import JobState

NAME_PATTERN = r"^[A-Za-z0-9_.:/-]{1,200}$"
KEY_PATTERN = r"^[!-~]{1,255}$"
TRACE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
TENANT_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_BATCH = 1000
INT32_MAX = 2**31 - 1


def _to_utc(value: datetime) -> datetime:
    # Naive times are taken as UTC (the store accepts aware times only); the conversion
    # itself can overflow at the edges of the calendar, which must be a 422, not a 500.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime out of range once converted to UTC") from exc


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_8601_only(value: Any) -> Any:
    # Pydantic would also read a number, or text holding one, as a Unix timestamp: `0.5`
    # would quietly mean 1970. The documented format is an ISO 8601 date-time, so only
    # text that starts like one gets as far as the parser.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time such as 2026-11-23T10:00:00Z")


UtcDatetime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_to_utc)]
"""An ISO 8601 date-time, converted to UTC (taken as UTC when it has no offset)."""


def _json_number(value: Any) -> Any:
    # Lax validation would take `true` for 1 and "5" for 5; in JSON neither is a number.
    if isinstance(value, bool | str):
        raise ValueError("expected a JSON number")
    return value


JsonNumber = BeforeValidator(_json_number)
"""Put in the `Annotated` of a numeric body field: booleans and text are refused."""
JobType = Annotated[str, Field(pattern=NAME_PATTERN, examples=["email.send"])]
QueueName = Annotated[str, Field(pattern=NAME_PATTERN, examples=["default"])]
TenantName = Annotated[str, Field(pattern=TENANT_PATTERN, examples=["acme"])]
IdempotencyKey = Annotated[str, Field(pattern=KEY_PATTERN, examples=["order-1234-receipt"])]

NUL_FREE_PATTERN = r"^[^\u0000]*$"
JsonText = Annotated[str, Field(pattern=NUL_FREE_PATTERN)]


class _OnlyMatchingKeys:
    """Pydantic documents a dict with patterned keys by `patternProperties`, which says
    nothing about keys that do not match; `propertyNames` refuses those, as the API does."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        patterns = schema.pop("patternProperties", {})
        if len(patterns) == 1:
            [(pattern, value)] = patterns.items()
            schema["propertyNames"] = {"pattern": pattern}
            schema["additionalProperties"] = value
        return schema


class JsonValue(
    RootModel[
        None
        | bool
        | int
        | float
        | JsonText
        | list["JsonValue"]
        | Annotated[dict[JsonText, "JsonValue"], _OnlyMatchingKeys()]
    ]
):
    """Any JSON value a payload may hold: text without NUL characters (PostgreSQL cannot
    store them) or lone surrogates, numbers that are finite, nesting at most 64 deep."""


class DocumentedAs:
    """Document a field as `documented` while validating it as its own type: the payload is
    checked by `jobforge.api.payloads` (errors that name the offending path, and a size
    limit), but /docs and schema-driven clients should see what that check accepts."""

    def __init__(self, documented: Any) -> None:
        self.documented = documented

    def __get_pydantic_json_schema__(
        self, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(self.documented).core_schema)


JsonObject = Annotated[dict[JsonText, JsonValue], _OnlyMatchingKeys()]
"""How a payload is documented: a JSON object of `JsonValue`s, keys without NUL characters."""


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
