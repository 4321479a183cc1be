"""Helpers for worker tests: claimed-looking `Job` values without a store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from jobforge.domain.job import Job
from jobforge.domain.states import JobState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def claimed_job(**overrides: Any) -> Job:
    """A job as a claim returns it: running, attempt 1, with a fresh lease token."""
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant": "default",
        "type": "test.job",
        "queue": "default",
        "priority": 0,
        "payload": {},
        "status": JobState.RUNNING,
        "attempts": 1,
        "max_attempts": 3,
        "run_at": T0,
        "timeout_seconds": None,
        "idempotency_key": None,
        "result": None,
        "last_error": None,
        "errors": (),
        "worker_id": "w1",
        "lease_token": uuid.uuid4(),
        "lease_expires_at": T0,
        "cancel_requested": False,
        "trace_id": None,
        "created_at": T0,
        "started_at": T0,
        "finished_at": None,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Job(**fields)
