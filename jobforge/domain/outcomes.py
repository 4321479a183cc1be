"""What running one attempt of a job produced, as a value the completer writes in batches.

The executor never touches the store: it returns one of these, carrying the lease token of
the attempt, and `JobCompleter` hands a batch of them to `Store.finish_attempts`. The store
applies an outcome only while the token is still the job's current one (fencing), so a late
write from a worker that lost its lease is refused and counted as stale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Completed:
    """The handler returned `result`; the job becomes `completed`."""

    job_id: uuid.UUID
    lease_token: uuid.UUID
    result: Any = None


@dataclass(frozen=True, kw_only=True)
class Failed:
    """The handler raised. The job becomes `failed` with `retry_at`, or `dead` when
    `retry_at` is None (no attempts left, or the error was not retryable)."""

    job_id: uuid.UUID
    lease_token: uuid.UUID
    message: str
    traceback: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Cancelled:
    """The handler was stopped because a user cancelled the running job."""

    job_id: uuid.UUID
    lease_token: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class Released:
    """The worker gave the job back unfinished (shutdown past its grace period).

    The job returns to `pending` at once, and the attempt it was charged on claim is
    refunded, so a deploy does not eat into a job's retries."""

    job_id: uuid.UUID
    lease_token: uuid.UUID


Outcome = Completed | Failed | Cancelled | Released
