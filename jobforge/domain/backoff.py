"""Retry delays: exponential backoff with full jitter, per job type."""

from __future__ import annotations

import random
from dataclasses import dataclass

from jobforge.domain.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """`base * 2^(attempt-1)` seconds, capped at `cap`, with full jitter.

    Full jitter (a uniform draw between 0 and the exponential delay) spreads the retries of
    a burst of jobs that failed together, so they do not all come back in the same second.
    `jitter=False` gives the plain exponential curve (useful in tests and for callers that
    want a predictable schedule).
    """

    base: float = 2.0
    cap: float = 3600.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.base <= 0:
            raise ConfigError(f"backoff base must be positive, got {self.base}")
        if self.cap < self.base:
            raise ConfigError(f"backoff cap must be at least the base, got {self.cap}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay for the given attempt number (1-based)."""
        exponent = min(max(attempt - 1, 0), 62)
        return float(min(self.cap, self.base * (2**exponent)))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next attempt after attempt number `attempt` failed."""
        top = self.ceiling(attempt)
        if not self.jitter:
            return top
        draw = (rng or random).uniform(0.0, top)
        # Keep a small floor so a retry never lands in the same instant as the failure.
        return max(draw, min(top, 0.05))
