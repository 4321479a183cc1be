"""`jobforge up`: everything in one process, for trying jobforge and for small installs.

One event loop runs the HTTP API (and the dashboard, when mounted), a worker on the demo
handlers (or `--app`) and, inside that worker, the maintenance services. They share one
store and one event bus, so on the default SQLite file events reach the dashboard without
any broker. On the first start (a store without tenants) an admin tenant `default` is
created and its key printed once; later starts say how to get a key instead.

Shutdown (SIGTERM or Ctrl-C): the API stops accepting requests, then the worker drains within
`JOBFORGE_SHUTDOWN_GRACE_SECONDS`; a second signal cuts the drain short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
import uvicorn
from fastapi import FastAPI

from jobforge.app import JobForge, load_app, open_store
from jobforge.cli import app
from jobforge.cli.output import fail, out
from jobforge.cli.tenants import create_tenant_with_key
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.dashboard.auth import issue_login_token
from jobforge.domain.errors import ConfigError, JobforgeError
from jobforge.events import EventBus, open_event_bus
from jobforge.observability.logs import configure_logging
from jobforge.store.protocol import Store
from jobforge.worker.shutdown import ShutdownSignals
from jobforge.worker.worker import Worker

FIRST_TENANT = "default"
SERVER_SHUTDOWN_SECONDS = 5
"""Open connections (a dashboard's live stream) get this long to close at shutdown."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: `jobforge up` routes signals itself (to stop
    the API, then drain the worker). uvicorn's handler would re-raise the signal after
    serving, which turns a clean SIGTERM shutdown into a kill by that signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True, kw_only=True)
class FirstStart:
    """The tenant created on the first start and its key (shown once)."""

    tenant: str
    api_key: str


async def ensure_first_tenant(store: Store) -> FirstStart | None:
    """On a store without tenants, create the admin tenant `default` with a key. The tenants
    themselves are the marker: a restart (or a store set up with `tenant create`) gets None."""
    if await store.list_tenants():
        return None
    tenant, key = await create_tenant_with_key(store, FIRST_TENANT, admin=True)
    return FirstStart(tenant=tenant.name, api_key=key)


@app.command("up")
def up_command(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: JOBFORGE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port, 0 for any free one [default: JOBFORGE_PORT or 8000].", min=0),
    ] = None,
    app_path: Annotated[
        str | None,
        typer.Option("--app", help="Handlers as module:object [default: the demo handlers]."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once [default: JOBFORGE_CONCURRENCY].")
    ] = None,
) -> None:
    """Run the API, dashboard, a worker and maintenance in one process (SQLite by default)."""
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    try:
        settings = Settings(**overrides)
        forge = load_app(app_path)
    except (ConfigError, ValueError) as exc:
        fail(str(exc), code=2)
    configure_logging(settings)
    # Alembic narrates every migration step at INFO; here it would bury the banner.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A signal during start-up (migrations) is kept and acted on once the loop runs.
    signals = ShutdownSignals()
    signals.capture_early()
    try:
        code = asyncio.run(AllInOne(settings, forge, signals).run())
    except JobforgeError as exc:
        fail(str(exc))
    raise typer.Exit(code)


class AllInOne:
    """The API server and a worker on one store, started and stopped together."""

    def __init__(self, settings: Settings, forge: JobForge, signals: ShutdownSignals) -> None:
        self.settings = settings
        self.signals = signals
        self.forge = forge
        self.worker: Worker | None = None
        self.server: _EmbeddedServer | None = None
        self.worker_started = False
        self.forced = False
        self.failure: str | None = None

    async def run(self) -> int:
        """Serve until a signal; returns the exit code (0 after a clean shutdown)."""
        store = open_store(self.settings)
        try:
            await store.migrate()
            first = await ensure_first_tenant(store)
            bus = open_event_bus(self.settings, store.dialect)
            await bus.start()
            try:
                api = self._build_api(store, bus)
                return await self._serve(store, api, bus, first)
            finally:
                await bus.close()
        finally:
            await store.close()

    def _build_api(self, store: Store, bus: EventBus) -> FastAPI:
        from jobforge.api.app import create_app

        return create_app(self.settings, store, bus, JobControl(store, bus))

    async def _serve(
        self, store: Store, api: FastAPI, bus: EventBus, first: FirstStart | None
    ) -> int:
        self.worker = self.forge.build_worker(store, self.settings, bus=bus)
        config = uvicorn.Config(
            api,
            host=self.settings.host,
            port=self.settings.port,
            log_config=None,  # the structlog setup renders uvicorn's lines too
            access_log=False,
            timeout_graceful_shutdown=SERVER_SHUTDOWN_SECONDS,
        )
        self.server = _EmbeddedServer(config)
        loop = asyncio.get_running_loop()
        self.signals.install(loop, on_stop=self._stop, on_force=self._force)
        starting = asyncio.create_task(self._start_worker_when_listening(first))
        try:
            try:
                await self.server.serve()
            except SystemExit:
                # uvicorn exits this way when it cannot bind; its log line says why.
                self.failure = f"cannot listen on {self.settings.host}:{self.settings.port}"
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            if self.worker_started:
                assert self.worker is not None
                result = await self.worker.stop()
                self.forced = self.forced or result.forced
        finally:
            self.signals.uninstall(loop)
        if self.failure:
            fail(self.failure)
        out.print("jobforge stopped")
        return 1 if self.forced else 0

    async def _start_worker_when_listening(self, first: FirstStart | None) -> None:
        assert self.server is not None and self.worker is not None
        while not self.server.started:
            await asyncio.sleep(0.05)
        try:
            await self.worker.start()
            self.worker_started = True
        except Exception as exc:
            self.failure = f"the worker could not start: {exc}"
            self._stop()
            return
        announce(
            self._base_url(),
            self.settings,
            self.forge,
            first,
            login_path(self.settings, first),
        )

    def _base_url(self) -> str:
        assert self.server is not None
        port = self.settings.port
        for server in self.server.servers:  # the real port when --port 0 was asked for
            for sock in server.sockets:
                port = sock.getsockname()[1]
        host = self.settings.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - only shaping a URL to print
            host = "127.0.0.1"
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def _stop(self) -> None:
        if self.worker_started:
            grace = self.settings.shutdown_grace_seconds
            out.print(
                f"stopping: running jobs get up to {grace:g} s to finish (Ctrl-C again to force)"
            )
        if self.server is not None:
            self.server.should_exit = True

    def _force(self) -> None:
        self.forced = True
        if self.server is not None:
            self.server.force_exit = True
        if self.worker is not None:
            self.worker.force()


def login_path(settings: Settings, first: FirstStart | None) -> str | None:
    """A one-time dashboard login link for the key created on first start."""
    if first is None:
        return None
    return issue_login_token(settings, first.api_key)


def describe_store(url: str) -> str:
    """Where the jobs live, without a password."""
    if url.startswith("sqlite"):
        return "SQLite " + url.split(":///", 1)[-1]
    parts = urlsplit(url)
    return f"PostgreSQL {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def announce(
    base: str, settings: Settings, forge: JobForge, first: FirstStart | None, login: str | None
) -> None:
    """The banner: where everything is, the first key if one was just made, what to try."""
    queues = ", ".join(forge.worker_queues(settings))
    lines = [
        f"[bold]jobforge is up[/bold] on {describe_store(settings.database_url)}",
        f"  API        {base}/api/v1   (docs: {base}/docs)",
    ]
    if login:
        lines.append(f"  Dashboard  {base}{login}   (one-time login link, valid 15 minutes)")
    else:
        lines.append(f"  Dashboard  {base}/")
    lines.append(f"  Worker     {settings.concurrency} at a time on queues {queues}")
    if first is not None:
        lines += [
            "",
            f"Created the admin tenant [bold]{first.tenant}[/bold]. Its API key, shown only once:",
            f"  API key: {first.api_key}",
            "",
            "Try it:",
            f"  export JOBFORGE_URL={base} JOBFORGE_API_KEY={first.api_key}",
            '  jobforge enqueue email.send --payload \'{"to": "ada@example.com"}\' --wait',
            '  curl -H "Authorization: Bearer $JOBFORGE_API_KEY" $JOBFORGE_URL/api/v1/metrics',
        ]
    else:
        lines += [
            "",
            "Tenants exist already; for a new API key run `jobforge tenant create NAME`",
            "(or `jobforge tenant key default`).",
        ]
    lines.append("Press Ctrl-C to stop.")
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)
    out.file.flush()
