"""`jobforge worker`: run jobs, in this process or in P supervised processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable

import typer

from jobforge.app import JobForge, load_app, open_store
from jobforge.cli import app
from jobforge.config import Settings
from jobforge.domain.errors import ConfigError
from jobforge.events import open_event_bus
from jobforge.observability.logs import configure_logging
from jobforge.worker.pool import WorkerPool
from jobforge.worker.shutdown import ShutdownSignals
from jobforge.worker.worker import run_until_signalled


@app.command("worker")
def worker_command(
    app_path: str | None = typer.Option(
        None, "--app", help="Handlers as module:object (default: the demo handlers)."
    ),
    queues: str | None = typer.Option(None, "--queues", help="Comma-separated queue names."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, help="Jobs per process."),
    processes: int = typer.Option(1, "--processes", min=1, help="Worker processes."),
    database_url: str | None = typer.Option(None, "--database-url", help="The store's URL."),
) -> None:
    """Run jobs until SIGTERM or SIGINT (a second signal forces the shutdown)."""
    settings = _settings(database_url)
    configure_logging(settings)
    try:
        forge = load_app(app_path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if processes > 1:
        raise typer.Exit(_supervise(app_path, queues, concurrency, processes, settings))
    queue_list = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    code = _run_foreground(forge, settings, queue_list, concurrency)
    raise typer.Exit(code)


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def _supervise(
    app_path: str | None,
    queues: str | None,
    concurrency: int | None,
    processes: int,
    settings: Settings,
) -> int:
    command = [sys.executable, "-m", "jobforge", "worker", "--processes", "1"]
    if app_path:
        command += ["--app", app_path]
    if queues:
        command += ["--queues", queues]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    # The URL travels by environment, not argv, so it stays out of `ps` listings.
    env = dict(os.environ, JOBFORGE_DATABASE_URL=settings.database_url)
    return WorkerPool(command, processes=processes, env=env).run()


def _run_foreground(
    forge: JobForge, settings: Settings, queues: list[str] | None, concurrency: int | None
) -> int:
    signals = ShutdownSignals()
    signals.capture_early()
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop  # faster I/O for the hot claim/complete path, when installed

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        code, threads_busy = runner.run(_serve(forge, settings, queues, concurrency, signals))
    if threads_busy:
        # A sync handler's thread cannot be interrupted and would keep the process (and the
        # job it no longer owns) alive; its job was already released, so end here.
        logging.shutdown()
        os._exit(code)
    return code


async def _serve(
    forge: JobForge,
    settings: Settings,
    queues: list[str] | None,
    concurrency: int | None,
    signals: ShutdownSignals,
) -> tuple[int, bool]:
    store = open_store(settings)
    try:
        await store.migrate()
        bus = open_event_bus(settings, store.dialect)
        await bus.start()
        try:
            worker = forge.build_worker(
                store, settings, bus=bus, queues=queues, concurrency=concurrency
            )
            result = await run_until_signalled(worker, signals)
        finally:
            await bus.close()
    finally:
        await store.close()
    return (1 if result.forced else 0), worker.invoker.threads_busy > 0
