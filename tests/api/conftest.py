"""API test harness: a real app over the real `store` fixture (SQLite and PostgreSQL).

`api` builds the app with `create_app` and hands out clients per tenant key; requests go
through httpx's ASGI transport, in this event loop, so concurrent requests really overlap.
`make_api(**settings)` builds one with other settings (limits, payload size).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from jobforge.api.app import create_app
from jobforge.api.ratelimit import RateLimiter
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.domain.errors import TenantExists
from jobforge.domain.job import Job
from jobforge.domain.outcomes import Failed
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store
from jobforge.store.params import ClaimParams

API = "/api/v1"


def api_settings(**overrides: Any) -> Settings:
    """Settings independent of the environment the tests run in."""
    values: dict[str, Any] = {
        "redis_url": None,
        "rate_limit_tenant_per_second": 1000.0,
        "rate_limit_tenant_burst": 5000,
        "rate_limit_ip_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Api:
    """One app over one store, and helpers to make tenants, keys and jobs in given states."""

    app: FastAPI
    store: Store
    settings: Settings
    bus: InProcessEventBus
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def key(self, tenant: str, *, admin: bool = False) -> str:
        """A new API key for `tenant` (created on first use)."""
        with contextlib.suppress(TenantExists):
            await self.store.create_tenant(tenant, is_admin=admin)
        key = generate_api_key()
        await self.store.add_api_key(tenant, digest=digest_api_key(key), prefix=display_prefix(key))
        return key

    def client(self, key: str | None = None, *, ip: str = "127.0.0.1") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=(ip, 50000)),
            base_url="http://testserver",
            headers=headers,
        )
        self.clients.append(client)
        return client

    async def tenant_client(
        self, tenant: str, *, admin: bool = False, ip: str = "127.0.0.1"
    ) -> httpx.AsyncClient:
        return self.client(await self.key(tenant, admin=admin), ip=ip)

    async def submit(self, client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
        body.setdefault("type", "email.send")
        response = await client.post(f"{API}/jobs", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def claim(self, queue: str, limit: int = 100) -> list[Job]:
        return await self.store.claim_jobs(
            ClaimParams(worker_id="test-worker", queues=[queue], limit=limit, lease_seconds=60)
        )

    async def fail(self, queue: str, *, dead: bool) -> list[Job]:
        """Claim every due job of `queue` and fail it: to `dead`, or to `failed` with a
        retry an hour away."""
        claimed = await self.claim(queue)
        retry_at = None if dead else datetime.now(UTC) + timedelta(hours=1)
        await self.store.finish_attempts(
            [
                Failed(
                    job_id=j.id,
                    lease_token=j.lease_token or uuid.uuid4(),
                    message="boom",
                    traceback="Traceback: boom",
                    retry_at=retry_at,
                )
                for j in claimed
            ]
        )
        return claimed

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(store: Store) -> AsyncIterator[ApiFactory]:
    """Build apps over the test's store; `limiter=` injects a rate limiter."""
    built: list[tuple[Api, bool]] = []

    async def factory(*, limiter: RateLimiter | None = None, **overrides: Any) -> Api:
        settings = api_settings(**overrides)
        bus = InProcessEventBus()
        app = create_app(settings, store, bus, JobControl(store, bus), limiter=limiter)
        api = Api(app=app, store=store, settings=settings, bus=bus)
        built.append((api, limiter is None))
        return api

    yield factory
    for api, owns_limiter in built:
        await api.aclose()
        if owns_limiter:
            await api.app.state.jobforge.limiter.close()


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api()
