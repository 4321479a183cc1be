"""When the SDK sends a request again, and how long it waits first.

Two kinds of failure are worth a second try:

- The connection could not be opened (`httpx.ConnectError`, `ConnectTimeout`). Nothing was
  sent, so any request is safe to repeat, a job submission included.
- The server may have seen the request but did not finish it: a 503 (store unreachable),
  or the answer was lost (read error or timeout). Only requests that cannot double an
  effect are repeated: reads, queue pause/resume, and job submissions that carry an
  idempotency key (the server answers a repeat with the original job).

Waits are exponential with full jitter (`jobforge.domain.backoff`), and a `Retry-After`
the server sent is honoured up to `max_wait`, so a CLI call never hangs for minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError

NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
"""The request never left this machine."""

UNANSWERED_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
    httpx.WriteError,
)
"""The request may have reached the server, whose answer was lost."""

RETRYABLE_STATUSES = frozenset({503})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """`attempts` tries in all (1 = never retry), with jittered exponential waits between."""

    attempts: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.2, cap=2.0))
    max_wait: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        if self.max_wait < 0:
            raise ConfigError(f"retry max_wait must not be negative, got {self.max_wait}")

    def wait(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        delay = self.backoff.delay(attempt, rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_wait)

    def should_retry_error(self, exc: Exception, *, idempotent: bool) -> bool:
        """Whether a transport error is worth another try for this request."""
        if isinstance(exc, NOT_SENT_ERRORS):
            return True
        return idempotent and isinstance(exc, UNANSWERED_ERRORS)

    def should_retry_status(self, status: int, *, idempotent: bool) -> bool:
        """Whether an error status is worth another try for this request."""
        return idempotent and status in RETRYABLE_STATUSES


NO_RETRY = RetryPolicy(attempts=1)
"""For callers that handle failures themselves (the load test, tests)."""
