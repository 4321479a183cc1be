"""Dashboard test harness: the real app (`create_app`) over a real SQLite store, driven by
httpx through the ASGI transport, signed in as real API keys.

`Dash.browser(key)` gives a client that has logged in through the login form (so it holds
the session cookie), and `csrf(client, path)` reads the CSRF token a page embeds.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from jobforge.api.app import create_app
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.domain.errors import TenantExists
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Failed
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store, open_store
from jobforge.store.params import ClaimParams

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def dashboard_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": None,
        "secret_key": "test-secret-key-for-dashboard-tests",
        "rate_limit_tenant_per_second": 1000.0,
        "rate_limit_tenant_burst": 5000,
        "rate_limit_ip_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Dash:
    app: FastAPI
    store: Store
    bus: InProcessEventBus
    control: JobControl
    settings: Settings
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def key(self, tenant: str, *, admin: bool = False) -> str:
        with contextlib.suppress(TenantExists):
            await self.store.create_tenant(tenant, is_admin=admin)
        key = generate_api_key()
        await self.store.add_api_key(tenant, digest=digest_api_key(key), prefix=display_prefix(key))
        return key

    def client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://testserver",
            follow_redirects=False,
        )
        self.clients.append(client)
        return client

    async def browser(self, key: str) -> httpx.AsyncClient:
        """A client signed in with `key` through the login form."""
        client = self.client()
        token = await csrf(client, "/login")
        response = await client.post("/login", data={"api_key": key, "csrf": token, "next": "/"})
        assert response.status_code == 303, response.text
        assert "jobforge_session" in client.cookies
        return client

    @contextlib.asynccontextmanager
    async def restarted(self, signed_in: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
        """A client of a new app over the same store (as after a restart: its hub has heard
        no event), carrying `signed_in`'s session."""
        app = create_app(self.settings, self.store, InProcessEventBus(), self.control)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            client.cookies.update(signed_in.cookies)
            yield client

    async def submit(self, tenant: str, **fields: Any) -> str:
        fields.setdefault("type", "email.send")
        result = await self.control.submit(NewJob(tenant=tenant, **fields))
        return str(result.job.id)


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token embedded in the page at `path`."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    store = open_store(f"sqlite:///{tmp_path / 'dash.db'}")
    await store.migrate()
    bus = InProcessEventBus()
    control = JobControl(store, bus)
    settings = dashboard_settings()
    app = create_app(settings, store, bus, control)
    d = Dash(app=app, store=store, bus=bus, control=control, settings=settings)
    try:
        # The ASGI transport runs no lifespan: run the app's (it starts and stops the hub).
        async with app.router.lifespan_context(app):
            yield d
    finally:
        for client in d.clients:
            await client.aclose()
        await store.close()


async def make_dead(dash: Dash, tenant: str, *, message: str = "boom", **fields: object) -> str:
    """A job of `tenant` failed straight to dead, with a traceback."""
    job_id = await dash.submit(tenant, queue="dlq-test", max_attempts=1, **fields)
    claimed = await dash.store.claim_jobs(
        ClaimParams(worker_id="w1", queues=["dlq-test"], limit=10, lease_seconds=60)
    )
    await dash.store.finish_attempts(
        [
            Failed(job_id=j.id, lease_token=j.lease_token or uuid.uuid4(), message=message,
                   traceback=f"Traceback (most recent call last):\n  {message}")
            for j in claimed
        ]
    )  # fmt: skip
    return job_id
