"""Rate limits: the `RateLimiter` protocol, its decision value, and `open_rate_limiter`.

Two limits guard the writes of the API:

- a **token bucket per tenant**, refilled at `rate_limit_tenant_per_second` up to
  `rate_limit_tenant_burst`, and charged **one token per job submitted** (a batch of 1,000
  jobs costs 1,000 tokens; cancels, retries, DLQ and queue verbs cost one each). A request
  is admitted when the bucket holds `min(cost, burst)` tokens and then takes its whole
  cost, so the bucket may go into debt: a batch larger than the burst is still possible
  once the bucket is full, and the tenant's next writes wait until the debt is repaid.
  The long-run rate is exactly the configured one either way.
- a **sliding window per client address** of `rate_limit_ip_per_minute` write requests
  over the last 60 seconds (a request, whatever its size, counts once).

Reads (listings, job details, metrics), which the dashboard polls, are not limited.

`memory.MemoryRateLimiter` keeps the state in this process; `redis.RedisRateLimiter` keeps it
in Redis with atomic Lua scripts so that every API process shares one limit. When Redis is
unreachable a check returns None ("unknown") and the request is served if
`rate_limit_fail_open` (the default), or raises `RateLimiterUnavailable` (a 503) if not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from jobforge.config import Settings

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True)
class RateDecision:
    """The outcome of one check, and what the `RateLimit-*` headers report."""

    allowed: bool
    limit: int
    """Capacity: the bucket's burst, or requests per window."""
    remaining: int
    """Whole tokens (or requests) left after this check."""
    reset_seconds: float
    """Seconds until the capacity is fully available again."""
    retry_after: float = 0.0
    """Seconds to wait before this request could be admitted (0 when allowed)."""
    scope: str = "tenant"
    """Which limit decided: `tenant` or `ip`."""


class RateLimiterUnavailable(Exception):
    """The limiter's backend is unreachable and the configuration says to fail closed."""


class RateLimiter(Protocol):
    """Checks and charges the per-tenant bucket and the per-address window."""

    backend: str
    """`memory` or `redis`."""

    async def hit_tenant(self, tenant: str, cost: int) -> RateDecision | None:
        """Charge `cost` tokens to the tenant's bucket; None if the backend is down."""

    async def hit_address(self, address: str) -> RateDecision | None:
        """Count one request in the address's window; None if the backend is down."""

    async def health(self) -> str:
        """`ok`, or `degraded` while the backend is unreachable."""

    async def close(self) -> None:
        """Release connections."""


def open_rate_limiter(settings: Settings, *, key_prefix: str = "jobforge:rl:") -> RateLimiter:
    """Redis-backed limits when `settings.redis_url` is set, otherwise in-process ones."""
    if settings.redis_url:
        from jobforge.api.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter.from_settings(settings, key_prefix=key_prefix)
    from jobforge.api.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter.from_settings(settings)


__all__ = [
    "WINDOW_SECONDS",
    "RateDecision",
    "RateLimiter",
    "RateLimiterUnavailable",
    "open_rate_limiter",
]
