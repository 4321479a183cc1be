"""When the SDK sends a request again: connection failures always, 503s only when repeating
cannot double an effect."""

from __future__ import annotations

import socket

import httpx
import pytest
from client_harness import FAST_RETRY, CountingTransport, LocalApi, MakeLocalApi

from jobforge.client import AsyncClient, RetryPolicy, ServiceUnavailable, TransportError
from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def down_api(make_local_api: MakeLocalApi) -> LocalApi:
    """The API over a database that refuses connections: every authenticated call is a 503."""
    return await make_local_api(f"postgresql://postgres@127.0.0.1:{closed_port()}/jobforge")


async def test_reads_are_retried_on_503_then_raise(down_api: LocalApi) -> None:
    client = down_api.client("jf_whatever")
    with pytest.raises(ServiceUnavailable) as caught:
        await client.metrics()
    assert caught.value.status == 503 and caught.value.code == "store_unavailable"
    assert caught.value.retry_after == 5
    assert len(down_api.transport.requests) == FAST_RETRY.attempts


async def test_a_submission_without_key_is_not_repeated_on_503(down_api: LocalApi) -> None:
    client = down_api.client("jf_whatever")
    with pytest.raises(ServiceUnavailable):
        await client.create_job("email.send")
    assert len(down_api.transport.requests) == 1
    with pytest.raises(ServiceUnavailable):
        await client.create_jobs([{"type": "email.send", "idempotency_key": "a"}, {"type": "x"}])
    assert len(down_api.transport.requests) == 2


async def test_a_submission_with_an_idempotency_key_is_repeated(down_api: LocalApi) -> None:
    client = down_api.client("jf_whatever")
    with pytest.raises(ServiceUnavailable):
        await client.create_job("email.send", idempotency_key="order-7")
    requests = down_api.transport.requests
    assert len(requests) == FAST_RETRY.attempts
    assert {r.headers["Idempotency-Key"] for r in requests} == {"order-7"}


async def test_connection_refused_is_retried_for_any_request() -> None:
    transport = CountingTransport(httpx.AsyncHTTPTransport())
    url = f"http://127.0.0.1:{closed_port()}"
    async with AsyncClient(url, "jf_x", retry=FAST_RETRY, transport=transport) as client:
        with pytest.raises(TransportError) as caught:
            await client.create_job("email.send")  # never sent, so safe to send again
    assert caught.value.status is None
    assert "cannot connect" in str(caught.value) and url in str(caught.value)
    assert len(transport.requests) == FAST_RETRY.attempts


def test_policy_waits_are_bounded_and_honour_retry_after() -> None:
    policy = RetryPolicy(attempts=4, backoff=Backoff(base=0.1, cap=0.4, jitter=False), max_wait=2)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.4]
    assert policy.wait(1, retry_after=1.5) == 1.5
    assert policy.wait(1, retry_after=30) == 2
    with pytest.raises(ConfigError, match="at least 1, got 0"):
        RetryPolicy(attempts=0)
