"""A store that cannot be reached: 503 with `Retry-After` everywhere, `/ready` says so,
`/health` stays up — and the API recovers when the database comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from jobforge.api.app import create_app, create_app_from_settings
from jobforge.control import JobControl
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store, open_store
from tests.api.conftest import API, api_settings
from tests.api.tcp_proxy import TcpProxy, free_port

ENDPOINTS = [
    ("GET", "/jobs", None),
    ("POST", "/jobs", {"type": "t"}),
    ("POST", "/jobs/batch", {"jobs": [{"type": "t"}]}),
    ("GET", "/jobs/00000000-0000-4000-8000-000000000000", None),
    ("POST", "/jobs/00000000-0000-4000-8000-000000000000/retry", None),
    ("POST", "/jobs/00000000-0000-4000-8000-000000000000/cancel", None),
    ("GET", "/dlq", None),
    ("POST", "/dlq/retry", None),
    ("DELETE", "/dlq", None),
    ("GET", "/queues", None),
    ("POST", "/queues/default/pause", None),
    ("GET", "/metrics", None),
    ("GET", "/workers", None),
]


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": "Bearer jf_whatever"},
    )


async def _assert_down(client: httpx.AsyncClient) -> None:
    for method, path, body in ENDPOINTS:
        response = await client.request(method, f"{API}{path}", json=body)
        assert response.status_code == 503, (method, path, response.text)
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["error"]["code"] == "store_unavailable"
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"].isdigit()
    assert ready.json()["error"]["details"]["store"] == "unreachable"
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/metrics")).status_code == 200  # Prometheus page still served


@pytest.fixture(params=["postgres-closed-port", "sqlite-missing-directory"])
async def dead_store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Store]:  # type: ignore[no-untyped-def]
    if request.param == "postgres-closed-port":
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/jobforge"
    else:
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'jobforge.db'}"
    store = open_store(url)
    yield store
    await store.close()


async def test_unreachable_store_is_503_and_not_ready(dead_store: Store) -> None:
    bus = InProcessEventBus()
    app = create_app(api_settings(), dead_store, bus, JobControl(dead_store, bus))
    async with _client(app) as client:
        await _assert_down(client)
    await app.state.jobforge.limiter.close()


async def test_app_from_settings_starts_with_the_database_down() -> None:
    settings = api_settings(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    app = create_app_from_settings(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        await _assert_down(client)


async def test_database_going_away_and_coming_back(pg_database_url: str) -> None:
    target = urlsplit(pg_database_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    url = target._replace(netloc=f"{target.username}@127.0.0.1:{proxy.port}").geturl()
    store = open_store(url)
    bus = InProcessEventBus()
    app = create_app(api_settings(), store, bus, JobControl(store, bus))
    await store.create_tenant("down-test")
    from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key

    key = generate_api_key()
    await store.add_api_key("down-test", digest=digest_api_key(key), prefix=display_prefix(key))
    try:
        async with _client(app) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            assert (await client.post(f"{API}/jobs", json={"type": "t"})).status_code == 201
            assert (await client.get("/ready")).status_code == 200

            await proxy.stop()
            for _ in range(3):  # pooled connections die first, then new ones are refused
                response = await client.post(f"{API}/jobs", json={"type": "t"})
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"].isdigit()
            assert (await client.get(f"{API}/jobs")).status_code == 503
            assert (await client.get("/ready")).status_code == 503
            assert (await client.get("/health")).status_code == 200

            await proxy.start()
            assert (await client.get("/ready")).status_code == 200
            listed = await client.get(f"{API}/jobs")
            assert listed.status_code == 200 and listed.json()["total"] == 1
    finally:
        await proxy.stop()
        await store.close()
        await app.state.jobforge.limiter.close()
