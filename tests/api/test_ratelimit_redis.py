"""Rate limits in Redis: the Lua scripts, sharing across API processes, atomicity under
concurrency, and Redis going away mid-test (fail open with a warning, or fail closed).

The shared Redis (db 15) is only touched under a per-test key prefix, deleted afterwards.
The outage tests start their own throwaway `redis-server` and kill it by PID.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from jobforge.api.ratelimit import open_rate_limiter
from jobforge.api.ratelimit.redis import RedisRateLimiter
from tests.api.conftest import API, ApiFactory, api_settings
from tests.api.tcp_proxy import free_port
from tests.servers import REDIS_URL, require

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require(REDIS_URL, 6379, "Redis")
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: Redis) -> AsyncIterator[str]:
    value = f"jobforge-test:{uuid.uuid4().hex}:"
    yield value
    keys = [k async for k in redis_client.scan_iter(match=f"{value}*")]
    if keys:
        await redis_client.delete(*keys)


def limiter(client: Redis, prefix: str, **kwargs: object) -> RedisRateLimiter:
    values: dict[str, object] = {"rate": 0.001, "burst": 5, "ip_per_minute": 3}
    values.update(kwargs)
    return RedisRateLimiter(client, key_prefix=prefix, **values)  # type: ignore[arg-type]


async def test_bucket_script(redis_client: Redis, prefix: str) -> None:
    lim = limiter(redis_client, prefix)
    decisions = [await lim.hit_tenant("acme", 1) for _ in range(6)]
    assert [d.allowed for d in decisions if d] == [True] * 5 + [False]
    assert [d.remaining for d in decisions if d] == [4, 3, 2, 1, 0, 0]
    refused = decisions[-1]
    assert refused is not None and refused.retry_after == pytest.approx(1000, rel=0.01)
    other = await lim.hit_tenant("other", 5)
    assert other is not None and other.allowed and other.remaining == 0


async def test_bucket_refills_and_allows_debt(redis_client: Redis, prefix: str) -> None:
    lim = limiter(redis_client, prefix, rate=50.0, burst=5)
    first = await lim.hit_tenant("acme", 20)  # more than the burst: admitted when full
    assert first is not None and first.allowed
    refused = await lim.hit_tenant("acme", 1)
    assert refused is not None and not refused.allowed
    assert refused.retry_after == pytest.approx(16 / 50, abs=0.05)
    await asyncio.sleep(refused.retry_after + 0.05)
    again = await lim.hit_tenant("acme", 1)
    assert again is not None and again.allowed


async def test_window_script(redis_client: Redis, prefix: str) -> None:
    lim = limiter(redis_client, prefix)
    decisions = [await lim.hit_address("10.0.0.1") for _ in range(4)]
    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert [d.remaining for d in decisions if d] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused is not None and 58 <= refused.retry_after <= 60
    other = await lim.hit_address("10.0.0.2")
    assert other is not None and other.allowed


async def test_limits_are_shared_by_every_process_and_atomic(
    redis_client: Redis, prefix: str
) -> None:
    # Two limiters with their own connections stand for two API processes.
    second = Redis.from_url(REDIS_URL)
    try:
        a = limiter(redis_client, prefix, burst=20)
        b = limiter(second, prefix, burst=20)
        results = await asyncio.gather(
            *[(a if i % 2 else b).hit_tenant("acme", 1) for i in range(100)]
        )
        assert sum(1 for d in results if d and d.allowed) == 20
        windows = await asyncio.gather(
            *[(a if i % 2 else b).hit_address("10.9.9.9") for i in range(10)]
        )
        assert sum(1 for d in windows if d and d.allowed) == 3
    finally:
        await second.aclose()


async def test_api_over_redis(make_api: ApiFactory, redis_client: Redis, prefix: str) -> None:
    settings = api_settings(
        redis_url=REDIS_URL, rate_limit_tenant_per_second=0.001, rate_limit_tenant_burst=2
    )
    shared = open_rate_limiter(settings, key_prefix=prefix)
    try:
        assert shared.backend == "redis"
        one = await make_api(limiter=shared, **_limits(settings))
        two = await make_api(
            limiter=open_rate_limiter(settings, key_prefix=prefix), **_limits(settings)
        )
        key = await one.key("acme")
        assert (await one.client(key).post(f"{API}/jobs", json={"type": "t"})).status_code == 201
        assert (await two.client(key).post(f"{API}/jobs", json={"type": "t"})).status_code == 201
        refused = await one.client(key).post(f"{API}/jobs", json={"type": "t"})
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Limit"] == "2"
        assert int(refused.headers["Retry-After"]) >= 1
        ready = (await one.client().get("/ready")).json()
        assert ready["rate_limiter"] == "redis:ok"
    finally:
        await shared.close()
        await two.app.state.jobforge.limiter.close()


def _limits(settings: object) -> dict[str, object]:
    return {
        name: getattr(settings, name)
        for name in ("redis_url", "rate_limit_tenant_per_second", "rate_limit_tenant_burst")
    }


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A throwaway redis-server of our own, which the test may kill."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; CI requires it")
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = _start_redis(binary, port)
    yield proc, port
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait(5)


def _start_redis(binary: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), 0.2):
                return proc
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def _outage_api(
    make_api: ApiFactory, port: int, *, fail_open: bool, retry_interval: float = 0.2
) -> tuple[object, RedisRateLimiter]:
    settings = api_settings(
        redis_url=f"redis://127.0.0.1:{port}/0",
        rate_limit_tenant_per_second=0.001,
        rate_limit_tenant_burst=2,
        rate_limit_fail_open=fail_open,
    )
    lim = RedisRateLimiter.from_settings(settings)
    lim.retry_interval = retry_interval
    api = await make_api(limiter=lim, **_limits(settings), rate_limit_fail_open=fail_open)
    return api, lim


async def test_redis_killed_mid_test_fails_open_with_a_warning(
    make_api: ApiFactory, own_redis: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = own_redis
    api, lim = await _outage_api(make_api, port, fail_open=True)
    try:
        client = await api.tenant_client("acme")  # type: ignore[attr-defined]
        statuses = [
            (await client.post(f"{API}/jobs", json={"type": "t"})).status_code for _ in range(3)
        ]
        assert statuses == [201, 201, 429]  # Redis is enforcing the limit

        proc.kill()  # Redis goes away mid-test
        proc.wait(5)
        with capture_logs() as logs:
            statuses = [
                (await client.post(f"{API}/jobs", json={"type": "t"})).status_code for _ in range(5)
            ]
        assert statuses == [201] * 5
        warnings = [
            e for e in logs if e["log_level"] == "warning" and "Redis unreachable" in e["event"]
        ]
        assert len(warnings) == 1  # once per outage, not once per request
        ready = (await client.get("/ready")).json()
        assert ready["status"] == "ready" and ready["rate_limiter"] == "redis:degraded"
        assert (await client.get(f"{API}/jobs")).json()["total"] == 7

        restarted = _start_redis(shutil.which("redis-server") or "redis-server", port)
        try:
            await asyncio.sleep(0.3)  # past the limiter's retry interval
            statuses = [
                (await client.post(f"{API}/jobs", json={"type": "t"})).status_code for _ in range(3)
            ]
            assert statuses == [201, 201, 429]  # a fresh Redis, enforcing again
        finally:
            restarted.kill()
            restarted.wait(5)
    finally:
        await lim.close()


async def test_redis_that_stops_answering_times_out_quickly(
    make_api: ApiFactory, own_redis: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = own_redis
    api, lim = await _outage_api(make_api, port, fail_open=True, retry_interval=30)
    try:
        client = await api.tenant_client("acme")  # type: ignore[attr-defined]
        assert (await client.post(f"{API}/jobs", json={"type": "t"})).status_code == 201
        os.kill(proc.pid, signal.SIGSTOP)  # alive but silent, like a hung host
        started = time.monotonic()
        statuses = [
            (await client.post(f"{API}/jobs", json={"type": "t"})).status_code for _ in range(5)
        ]
        assert statuses == [201] * 5
        # One short timeout, then Redis is left alone for the retry interval.
        assert time.monotonic() - started < 2
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        await lim.close()


async def test_redis_down_fails_closed_when_configured(
    make_api: ApiFactory, own_redis: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = own_redis
    api, lim = await _outage_api(make_api, port, fail_open=False)
    try:
        client = await api.tenant_client("acme")  # type: ignore[attr-defined]
        assert (await client.post(f"{API}/jobs", json={"type": "t"})).status_code == 201
        proc.kill()
        proc.wait(5)
        refused = await client.post(f"{API}/jobs", json={"type": "t"})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "rate_limiter_unavailable"
        assert refused.headers["Retry-After"] == "1"
        assert (await client.get(f"{API}/jobs")).status_code == 200  # reads unaffected
    finally:
        await lim.close()
