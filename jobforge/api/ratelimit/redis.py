"""Rate limits shared by every API process, kept in Redis and changed by atomic Lua scripts.

Each check is one script call, so concurrent processes can never both spend the last token.
The scripts read Redis's own clock (`TIME`), so API hosts with skewed clocks still agree.

When Redis does not answer (connect and read timeouts are short on purpose: a limiter must
not slow every write down to a TCP timeout), the check returns None and the caller serves
or refuses according to `rate_limit_fail_open`. After a failure Redis is left alone for
`retry_interval` seconds, so an outage costs one timeout per interval rather than one per
request; the outage and the recovery are each logged once, and a reminder every
`log_interval` seconds while it lasts.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobforge.api.ratelimit import WINDOW_SECONDS, RateDecision
from jobforge.observability.metrics import RATE_LIMITER_ERRORS

if TYPE_CHECKING:
    from jobforge.config import Settings

log = structlog.get_logger(__name__)

# KEYS[1] bucket hash; ARGV rate, burst, cost. Returns {allowed, tokens, retry_after}, the
# floats as strings because Redis truncates Lua numbers to integers on the way out.
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local need = math.min(cost, burst)
local allowed = 0
local retry = 0
if tokens >= need then
  tokens = tokens - cost
  allowed = 1
else
  retry = (need - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""

# KEYS[1] sorted set of hit times (ms); ARGV limit, window_ms, unique member.
# Returns {allowed, count_after, ms_until_oldest_leaves}.
WINDOW_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = 0
if oldest[2] then
  wait = tonumber(oldest[2]) + window - now
end
return {allowed, count, wait}
"""


class RedisRateLimiter:
    """`RateLimiter` whose state lives in Redis, shared by every API process."""

    backend = "redis"

    def __init__(
        self,
        client: Redis,
        *,
        rate: float,
        burst: int,
        ip_per_minute: int,
        key_prefix: str = "jobforge:rl:",
        retry_interval: float = 1.0,
        log_interval: float = 30.0,
    ) -> None:
        self._client = client
        self.rate = rate
        self.burst = burst
        self.ip_per_minute = ip_per_minute
        self.key_prefix = key_prefix
        self.retry_interval = retry_interval
        self.log_interval = log_interval
        self._bucket = client.register_script(BUCKET_SCRIPT)
        self._window = client.register_script(WINDOW_SCRIPT)
        self._down_until = 0.0
        self._down_since: float | None = None
        self._last_warning = 0.0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, key_prefix: str = "jobforge:rl:"
    ) -> RedisRateLimiter:
        if not settings.redis_url:
            raise ValueError("RedisRateLimiter needs settings.redis_url")
        client = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry_on_timeout=False,
        )
        return cls(
            client,
            rate=settings.rate_limit_tenant_per_second,
            burst=settings.rate_limit_tenant_burst,
            ip_per_minute=settings.rate_limit_ip_per_minute,
            key_prefix=key_prefix,
        )

    async def hit_tenant(self, tenant: str, cost: int) -> RateDecision | None:
        # Hash tags keep each limit's keys in one Redis Cluster slot.
        key = f"{self.key_prefix}{{tenant:{tenant}}}"
        reply = await self._run(self._bucket, [key], [self.rate, self.burst, cost])
        if reply is None:
            return None
        allowed, tokens = bool(int(reply[0])), float(reply[1])
        return RateDecision(
            allowed=allowed,
            limit=self.burst,
            remaining=max(0, int(tokens)),
            reset_seconds=max(0.0, (self.burst - tokens) / self.rate),
            retry_after=float(reply[2]),
            scope="tenant",
        )

    async def hit_address(self, address: str) -> RateDecision | None:
        key = f"{self.key_prefix}{{ip:{address}}}"
        window_ms = int(WINDOW_SECONDS * 1000)
        member = uuid.uuid4().hex
        reply = await self._run(self._window, [key], [self.ip_per_minute, window_ms, member])
        if reply is None:
            return None
        allowed, count, wait_ms = bool(int(reply[0])), int(reply[1]), int(reply[2])
        return RateDecision(
            allowed=allowed,
            limit=self.ip_per_minute,
            remaining=max(0, self.ip_per_minute - count),
            reset_seconds=max(0.0, wait_ms / 1000),
            retry_after=0.0 if allowed else max(0.0, wait_ms / 1000),
            scope="ip",
        )

    async def health(self) -> str:
        try:
            await self._client.ping()
        except (RedisError, OSError):
            return "degraded"
        return "ok"

    async def close(self) -> None:
        await self._client.aclose()

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> list[Any] | None:
        now = time.monotonic()
        if now < self._down_until:
            self._note_down(now, None)
            return None
        try:
            reply = await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._down_until = now + self.retry_interval
            self._note_down(now, exc)
            return None
        if self._down_since is not None:
            log.info(
                "rate limiter: Redis reachable again", down_seconds=round(now - self._down_since, 1)
            )
            self._down_since = None
        return list(reply)

    def _note_down(self, now: float, exc: BaseException | None) -> None:
        RATE_LIMITER_ERRORS.labels(action="unchecked").inc()
        if self._down_since is None:
            self._down_since = now
        elif now - self._last_warning < self.log_interval:
            return
        self._last_warning = now
        log.warning(
            "rate limiter: Redis unreachable, limits not enforced by Redis",
            error=None if exc is None else repr(exc),
            down_seconds=round(now - self._down_since, 1),
        )
