"""Fixtures of the SDK tests: `local_api` (the real API app in-process, on SQLite) and
`make_local_api(**settings)` for one with other settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from client_harness import CountingTransport, LocalApi, MakeLocalApi, client_settings

from jobforge.api.app import create_app
from jobforge.control import JobControl
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store, open_store


@pytest.fixture
async def make_local_api(sqlite_url: str) -> AsyncIterator[MakeLocalApi]:
    stores: list[Store] = []
    apis: list[LocalApi] = []

    async def make(database_url: str | None = None, **settings: Any) -> LocalApi:
        config = client_settings(database_url or sqlite_url, **settings)
        store = open_store(config.database_url)
        stores.append(store)
        if database_url is None:
            await store.migrate()
        bus = InProcessEventBus()
        app = create_app(config, store, bus, JobControl(store, bus))
        transport = CountingTransport(httpx.ASGITransport(app=app))
        api = LocalApi(store=store, settings=config, transport=transport)
        apis.append(api)
        return api

    yield make
    for api in apis:
        for client in api.clients:
            await client.aclose()
    for store in stores:
        await store.close()


@pytest.fixture
async def local_api(make_local_api: MakeLocalApi) -> LocalApi:
    return await make_local_api()
