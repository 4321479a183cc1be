"""In-memory rate limits: the token bucket and sliding window on a stepped clock, then the
API's 429s with `Retry-After` and `RateLimit-*` headers."""

from __future__ import annotations

import pytest

from jobforge.api.ratelimit.memory import PRUNE_EVERY, SlidingWindows, TokenBuckets
from tests.api.conftest import API, ApiFactory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_admits_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=4, clock=clock)
    decisions = [buckets.hit("t", 1) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, True, False]
    assert [d.remaining for d in decisions[:4]] == [3, 2, 1, 0]
    refused = decisions[4]
    assert refused.retry_after == pytest.approx(0.5)
    assert refused.reset_seconds == pytest.approx(2.0)
    clock.now += 0.5
    assert buckets.hit("t", 1).allowed
    assert not buckets.hit("t", 1).allowed
    assert buckets.hit("other", 1).allowed  # one bucket per tenant


def test_bucket_charges_the_cost_and_allows_debt_beyond_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10.0, burst=100, clock=clock)
    assert buckets.hit("t", 60).allowed
    assert not buckets.hit("t", 60).allowed  # 40 left < 60 needed
    big = buckets.hit("t", 40)
    assert big.allowed and big.remaining == 0
    clock.now += 10  # full again
    huge = buckets.hit("t", 1000)  # larger than the burst: admitted when full, leaves debt
    assert huge.allowed and huge.remaining == 0
    after = buckets.hit("t", 1)
    assert not after.allowed
    assert after.retry_after == pytest.approx(90.1)  # repay 900 tokens of debt, plus one


def test_bucket_refill_is_capped_at_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=3, clock=clock)
    buckets.hit("t", 3)
    clock.now += 3600
    assert [buckets.hit("t", 1).allowed for _ in range(4)] == [True, True, True, False]


def test_window_counts_hits_in_the_last_minute() -> None:
    clock = Clock()
    windows = SlidingWindows(limit=3, window=60.0, clock=clock)
    for step in (0, 10, 20):
        clock.now = 1000.0 + step
        assert windows.hit("ip").allowed
    clock.now = 1030.0
    refused = windows.hit("ip")
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == pytest.approx(30.0)  # when the hit at t=0 leaves
    clock.now = 1060.0
    assert windows.hit("ip").allowed  # exactly one window later the first hit is gone
    assert not windows.hit("ip").allowed
    assert windows.hit("other-ip").allowed


def test_idle_state_is_pruned_and_active_state_kept() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    windows = SlidingWindows(limit=2, clock=clock)
    buckets.hit("busy", 2)
    windows.hit("busy")
    windows.hit("busy")
    for i in range(PRUNE_EVERY):
        buckets.hit(f"t{i}", 1)
        windows.hit(f"ip{i}")
    clock.now += 59
    for i in range(PRUNE_EVERY):
        buckets.hit(f"u{i}", 1)
        windows.hit(f"ip{i}")
    assert not windows.hit("busy").allowed
    assert len(buckets._buckets) <= 2 * PRUNE_EVERY + 1
    clock.now += 61
    windows.hit("x")
    for i in range(PRUNE_EVERY):
        windows.hit("x")
    assert len(windows._hits) < PRUNE_EVERY


@pytest.mark.parametrize(("rate", "burst", "limit"), [(0, 1, 1), (1, 0, 1)])
def test_bad_configuration_raises_with_the_value(rate: float, burst: int, limit: int) -> None:
    with pytest.raises(ValueError, match=str(rate if rate <= 0 else burst)):
        TokenBuckets(rate=rate, burst=burst)
    with pytest.raises(ValueError):
        SlidingWindows(limit=0)


async def test_tenant_bucket_429_with_headers(make_api: ApiFactory) -> None:
    api = await make_api(rate_limit_tenant_per_second=0.01, rate_limit_tenant_burst=3)
    client = await api.tenant_client("acme")
    remaining = []
    for _ in range(3):
        response = await client.post(f"{API}/jobs", json={"type": "t"})
        assert response.status_code == 201
        assert response.headers["RateLimit-Limit"] == "3"
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = await client.post(f"{API}/jobs", json={"type": "t"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"]["limit"] == "tenant"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) > 0
    for verb in ("cancel", "retry"):
        job_id = "00000000-0000-4000-8000-000000000000"
        assert (await client.post(f"{API}/jobs/{job_id}/{verb}")).status_code == 429
    assert (await client.post(f"{API}/dlq/retry")).status_code == 429
    assert (await client.post(f"{API}/queues/q/pause")).status_code == 429
    # Reads are never throttled by the write limit.
    for _ in range(20):
        assert (await client.get(f"{API}/jobs")).status_code == 200
        assert (await client.get(f"{API}/metrics")).status_code == 200
    other = await api.tenant_client("other")
    assert (await other.post(f"{API}/jobs", json={"type": "t"})).status_code == 201
    assert (await client.get(f"{API}/jobs")).json()["total"] == 3


async def test_batches_cost_one_token_per_job(make_api: ApiFactory) -> None:
    api = await make_api(rate_limit_tenant_per_second=0.01, rate_limit_tenant_burst=10)
    client = await api.tenant_client("acme")
    batch = {"jobs": [{"type": "t"}] * 7}
    first = await client.post(f"{API}/jobs/batch", json=batch)
    assert first.status_code == 201 and first.headers["RateLimit-Remaining"] == "3"
    refused = await client.post(f"{API}/jobs/batch", json=batch)
    assert refused.status_code == 429
    assert (
        await client.post(f"{API}/jobs/batch", json={"jobs": [{"type": "t"}] * 3})
    ).status_code == 201


async def test_a_batch_larger_than_the_burst_is_admitted_once_full(make_api: ApiFactory) -> None:
    api = await make_api(rate_limit_tenant_per_second=0.01, rate_limit_tenant_burst=10)
    client = await api.tenant_client("acme")
    big = await client.post(f"{API}/jobs/batch", json={"jobs": [{"type": "t"}] * 50})
    assert big.status_code == 201
    refused = await client.post(f"{API}/jobs", json={"type": "t"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 4000  # 41 tokens of debt at 0.01/s


async def test_address_window_429(make_api: ApiFactory) -> None:
    api = await make_api(rate_limit_ip_per_minute=3)
    here = [await api.tenant_client(f"t{i}", ip="10.0.0.1") for i in range(3)]
    for client in here:
        response = await client.post(f"{API}/jobs", json={"type": "t"})
        assert response.status_code == 201
    bad_key = api.client("jf_wrong", ip="10.0.0.1")
    refused = await bad_key.post(f"{API}/jobs", json={"type": "t"})
    assert refused.status_code == 429  # counted before authentication
    assert refused.json()["error"]["details"]["limit"] == "ip"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert (await here[0].get(f"{API}/jobs")).status_code == 200  # reads are not counted
    elsewhere = await api.tenant_client("t0", ip="10.0.0.2")
    assert (await elsewhere.post(f"{API}/jobs", json={"type": "t"})).status_code == 201
