"""A real uvicorn server on a free port, in a thread with its own event loop, over a temp
SQLite store: for WebSocket tests and the browser tests.

The test talks to the server over HTTP/WS like any client, and reaches into the server's
loop with `call(fn)` (e.g. to create a key, start a worker or submit a job), so the store,
bus and worker are only ever used from the loop that owns them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from jobforge.api.app import create_app
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.domain.errors import TenantExists
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store, open_store

T = TypeVar("T")
AppFactory = Callable[[Settings, Store, InProcessEventBus, JobControl], FastAPI]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        redis_url=None,
        secret_key="live-server-test-secret",
        rate_limit_tenant_per_second=1000.0,
        rate_limit_tenant_burst=5000,
        rate_limit_ip_per_minute=100_000,
        poll_interval_seconds=0.05,
    )


class LiveServer:
    """`with LiveServer(tmp_path) as server:` serves the app at `server.url`."""

    def __init__(self, tmp_path: Path, *, app_factory: AppFactory | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = server_settings()
        self._db = f"sqlite:///{tmp_path / 'live.db'}"
        self._factory = app_factory or (lambda s, st, b, c: create_app(s, st, b, c))
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: uvicorn.Server | None = None
        self._error: BaseException | None = None
        self.store: Store
        self.bus: InProcessEventBus
        self.control: JobControl
        self.app: FastAPI
        self._cleanups: list[Callable[[], Awaitable[Any]]] = []

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30) or self._error:
            raise RuntimeError(f"server did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                self.call(cleanup)
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Run `fn()` on the server's loop and return its result."""

        async def run() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def on_exit(self, cleanup: Callable[[], Awaitable[Any]]) -> None:
        """Run `cleanup()` on the server's loop before it stops (e.g. stop a worker)."""
        self._cleanups.append(cleanup)

    def key(self, tenant: str, *, admin: bool = False) -> str:
        """A new API key for `tenant` (created on first use)."""
        key = generate_api_key()

        async def make() -> None:
            with contextlib.suppress(TenantExists):
                await self.store.create_tenant(tenant, is_admin=admin)
            await self.store.add_api_key(
                tenant, digest=digest_api_key(key), prefix=display_prefix(key)
            )

        self.call(make)
        return key

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced to __enter__
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self.store = open_store(self._db)
        await self.store.migrate()
        self.bus = InProcessEventBus()
        self.control = JobControl(self.store, self.bus)
        self.app = self._factory(self.settings, self.store, self.bus, self.control)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        # uvicorn installs signal handlers only in the main thread; here it skips them.
        serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if serving.done():
                await serving  # raises why it could not start
            await asyncio.sleep(0.02)
        self._ready.set()
        try:
            await serving
        finally:
            await self.bus.close()
            await self.store.close()
