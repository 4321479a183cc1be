"""`JobEvent`: the one wire shape of a lifecycle event (WebSocket, pub/sub, tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from jobforge.domain.states import JobState


class EventName(StrEnum):
    """The lifecycle events of DESIGN.md."""

    SUBMITTED = "job_submitted"
    STARTED = "job_started"
    COMPLETED = "job_completed"
    FAILED = "job_failed"
    RETRY = "job_retry"
    DLQ = "job_dlq"
    CANCELLED = "job_cancelled"


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """Something happened to a job. `tenant` scopes who may see it."""

    event: EventName
    job_id: uuid.UUID
    tenant: str
    type: str
    queue: str
    status: JobState
    attempt: int
    at: datetime
    actor: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event.value,
            "job_id": str(self.job_id),
            "tenant": self.tenant,
            "type": self.type,
            "queue": self.queue,
            "status": self.status.value,
            "attempt": self.attempt,
            "at": self.at.isoformat(),
            "actor": self.actor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobEvent:
        return cls(
            event=EventName(data["event"]),
            job_id=uuid.UUID(data["job_id"]),
            tenant=data["tenant"],
            type=data["type"],
            queue=data["queue"],
            status=JobState(data["status"]),
            attempt=int(data["attempt"]),
            at=datetime.fromisoformat(data["at"]),
            actor=data.get("actor"),
        )


def event_for_status(status: JobState, *, manual_retry: bool = False) -> EventName:
    """The event a job's arrival in `status` announces."""
    if manual_retry:
        return EventName.RETRY
    return {
        JobState.PENDING: EventName.SUBMITTED,
        JobState.SCHEDULED: EventName.SUBMITTED,
        JobState.RUNNING: EventName.STARTED,
        JobState.COMPLETED: EventName.COMPLETED,
        JobState.FAILED: EventName.FAILED,
        JobState.DEAD: EventName.DLQ,
        JobState.CANCELLED: EventName.CANCELLED,
    }[status]
