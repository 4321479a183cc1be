"""In-process rate limits: a token bucket per tenant and a sliding-window log per address.

Used when no Redis is configured; each API process then limits on its own. The clock is
injectable so tests step time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jobforge.api.ratelimit import WINDOW_SECONDS, RateDecision

if TYPE_CHECKING:
    from jobforge.config import Settings

Clock = Callable[[], float]
PRUNE_EVERY = 4096
"""Checks between sweeps of idle state, which keep memory bounded by active clients."""


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class TokenBuckets:
    """One token bucket per key; admits when `min(cost, burst)` tokens are there, then
    takes the whole cost (see the package docstring for why debt is allowed)."""

    def __init__(self, *, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._checks = 0

    def hit(self, key: str, cost: int) -> RateDecision:
        now = self._clock()
        bucket = self._buckets.get(key) or _Bucket(float(self.burst), now)
        tokens = min(
            float(self.burst), bucket.tokens + max(0.0, now - bucket.updated_at) * self.rate
        )
        need = min(cost, self.burst)
        allowed = tokens >= need
        retry_after = 0.0 if allowed else (need - tokens) / self.rate
        if allowed:
            tokens -= cost
        self._buckets[key] = _Bucket(tokens, now)
        self._maybe_prune(now)
        return RateDecision(
            allowed=allowed,
            limit=self.burst,
            remaining=max(0, math.floor(tokens)),
            reset_seconds=max(0.0, (self.burst - tokens) / self.rate),
            retry_after=retry_after,
            scope="tenant",
        )

    def _maybe_prune(self, now: float) -> None:
        self._checks += 1
        if self._checks % PRUNE_EVERY:
            return
        # A bucket that has refilled completely is the same as no bucket at all.
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.updated_at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


class SlidingWindows:
    """At most `limit` hits per key in any `window` seconds (an exact log of hit times)."""

    def __init__(
        self, *, limit: int, window: float = WINDOW_SECONDS, clock: Clock = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"sliding window needs limit >= 1 and window > 0, got {limit}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._checks = 0

    def hit(self, key: str) -> RateDecision:
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
        oldest = hits[0] if hits else now
        until_oldest_leaves = max(0.0, oldest + self.window - now)
        self._maybe_prune(now)
        return RateDecision(
            allowed=allowed,
            limit=self.limit,
            remaining=self.limit - len(hits),
            reset_seconds=until_oldest_leaves,
            retry_after=0.0 if allowed else until_oldest_leaves,
            scope="ip",
        )

    def _maybe_prune(self, now: float) -> None:
        self._checks += 1
        if self._checks % PRUNE_EVERY:
            return
        idle = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]


class MemoryRateLimiter:
    """`RateLimiter` over this process's memory."""

    backend = "memory"

    def __init__(self, buckets: TokenBuckets, windows: SlidingWindows) -> None:
        self.buckets = buckets
        self.windows = windows

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Clock = time.monotonic
    ) -> MemoryRateLimiter:
        return cls(
            TokenBuckets(
                rate=settings.rate_limit_tenant_per_second,
                burst=settings.rate_limit_tenant_burst,
                clock=clock,
            ),
            SlidingWindows(limit=settings.rate_limit_ip_per_minute, clock=clock),
        )

    async def hit_tenant(self, tenant: str, cost: int) -> RateDecision:
        return self.buckets.hit(tenant, cost)

    async def hit_address(self, address: str) -> RateDecision:
        return self.windows.hit(address)

    async def health(self) -> str:
        return "ok"

    async def close(self) -> None:
        return None
