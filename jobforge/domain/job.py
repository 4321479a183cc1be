"""The job as stored (`Job`), as submitted (`NewJob`), and one failed attempt (`AttemptError`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobforge.domain.states import JobState

JsonObject = dict[str, Any]

DEFAULT_QUEUE = "default"
DEFAULT_TENANT = "default"


@dataclass(frozen=True, kw_only=True)
class AttemptError:
    """One failed attempt, kept in the job's history."""

    attempt: int
    at: datetime
    message: str
    traceback: str | None = None
    worker_id: str | None = None

    def to_json(self) -> JsonObject:
        return {
            "attempt": self.attempt,
            "at": self.at.isoformat(),
            "message": self.message,
            "traceback": self.traceback,
            "worker_id": self.worker_id,
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> AttemptError:
        return cls(
            attempt=int(data["attempt"]),
            at=datetime.fromisoformat(data["at"]),
            message=str(data["message"]),
            traceback=data.get("traceback"),
            worker_id=data.get("worker_id"),
        )


@dataclass(frozen=True, kw_only=True)
class NewJob:
    """What a caller submits. `run_at` in the future makes the job `scheduled`."""

    type: str
    payload: JsonObject = field(default_factory=dict)
    tenant: str = DEFAULT_TENANT
    queue: str = DEFAULT_QUEUE
    priority: int = 0
    max_attempts: int | None = None
    run_at: datetime | None = None
    timeout_seconds: float | None = None
    idempotency_key: str | None = None
    trace_id: str | None = None
    id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.type or len(self.type) > 200:
            raise ValueError(f"type must be 1..200 characters, got {self.type!r}")
        if not self.queue or len(self.queue) > 200:
            raise ValueError(f"queue must be 1..200 characters, got {self.queue!r}")
        if not isinstance(self.payload, dict):
            raise ValueError(f"payload must be a JSON object, got {type(self.payload).__name__}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.timeout_seconds is not None and self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {self.timeout_seconds}")
        if self.idempotency_key is not None and not 1 <= len(self.idempotency_key) <= 255:
            raise ValueError("idempotency_key must be 1..255 characters")


@dataclass(frozen=True, kw_only=True)
class Job:
    """A job as stored: the read model every surface shows."""

    id: uuid.UUID
    tenant: str
    type: str
    queue: str
    priority: int
    payload: JsonObject
    status: JobState
    attempts: int
    max_attempts: int
    run_at: datetime
    timeout_seconds: float | None
    idempotency_key: str | None
    result: Any
    last_error: str | None
    errors: tuple[AttemptError, ...]
    worker_id: str | None
    lease_token: uuid.UUID | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    trace_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def attempts_left(self) -> int:
        return max(self.max_attempts - self.attempts, 0)
