"""SDK test harness: the real API app over a real SQLite store, reached in-process.

The fixtures live in `conftest.py`; the classes here are importable by the tests.

`local_api` builds the app with `create_app` and hands out `AsyncClient`s that talk to it
through httpx's ASGI transport; `make_local_api(**settings)` builds one with other settings.
`dead_job()` puts a job in the dead-letter queue the way a worker would (claim, then a
final failure), without running one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from jobforge.client import AsyncClient, RetryPolicy
from jobforge.config import Settings
from jobforge.domain.backoff import Backoff
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Failed
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.store import Store
from jobforge.store.params import ClaimParams

FAST_RETRY = RetryPolicy(attempts=3, backoff=Backoff(base=0.01, cap=0.02), max_wait=0.05)
"""Retries without the real waits (a 503's Retry-After of 5 s is capped at 50 ms)."""


def client_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings independent of the environment the tests run in."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": None,
        "rate_limit_tenant_per_second": 1000.0,
        "rate_limit_tenant_burst": 5000,
        "rate_limit_ip_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes every request to a real transport and counts them (to observe retries)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class LocalApi:
    """One API app over one store; clients reach it without a socket."""

    store: Store
    settings: Settings
    transport: CountingTransport
    clients: list[AsyncClient] = field(default_factory=list)

    async def key(self, tenant: str = "acme", *, admin: bool = False) -> str:
        names = {t.name for t in await self.store.list_tenants()}
        if tenant not in names:
            await self.store.create_tenant(tenant, is_admin=admin)
        key = generate_api_key()
        await self.store.add_api_key(tenant, digest=digest_api_key(key), prefix=display_prefix(key))
        return key

    def client(self, key: str | None, *, retry: RetryPolicy = FAST_RETRY) -> AsyncClient:
        client = AsyncClient("http://testserver", key, retry=retry, transport=self.transport)
        self.clients.append(client)
        return client

    async def tenant_client(self, tenant: str = "acme", *, admin: bool = False) -> AsyncClient:
        return self.client(await self.key(tenant, admin=admin))

    async def dead_job(self, tenant: str = "acme", job_type: str = "image.process") -> uuid.UUID:
        """A job of `tenant` that failed its last attempt, as a worker would leave it."""
        [result] = await self.store.enqueue_jobs(
            [NewJob(type=job_type, tenant=tenant, queue="dead-letters", max_attempts=1)]
        )
        [job] = await self.store.claim_jobs(
            ClaimParams(worker_id="test", queues=["dead-letters"], limit=1, lease_seconds=30)
        )
        assert job.id == result.job.id and job.lease_token is not None
        await self.store.finish_attempts(
            [Failed(job_id=job.id, lease_token=job.lease_token, message="boom", retry_at=None)]
        )
        return job.id


MakeLocalApi = Callable[..., Awaitable[LocalApi]]
