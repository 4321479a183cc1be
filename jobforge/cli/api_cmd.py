"""`jobforge api`: the HTTP API alone, for production.

Run as many as you like behind a load balancer (or `--workers N` processes here); they share
the database, and with `JOBFORGE_REDIS_URL` set they also share the rate limits and the live
event stream. Jobs are run by `jobforge worker` processes, not by this command.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from jobforge.cli import app
from jobforge.config import Settings
from jobforge.observability.logs import configure_logging

FACTORY = "jobforge.cli.api_cmd:build_api"
"""Each uvicorn worker process builds its own app (store pool, bus, limiter) from the
environment, which is why the app is named by import path rather than passed as an object."""


def build_api() -> FastAPI:
    """The API from the environment, with logging set up in this (possibly child) process."""
    from jobforge.api.app import create_app_from_settings

    settings = Settings()
    configure_logging(settings)
    return create_app_from_settings(settings)


@app.command("api")
def api_command(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: JOBFORGE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [default: JOBFORGE_PORT or 8000].", min=0, max=65535)
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Trust X-Forwarded-For from --forwarded-allow-ips (client IPs for rate limits)."
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(help="Proxies whose X-Forwarded-* headers are trusted [default: 127.0.0.1]."),
    ] = None,
) -> None:
    """Serve the HTTP API (no workers) until SIGTERM or Ctrl-C."""
    settings = Settings()
    configure_logging(settings)
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=None,  # keep the structlog setup above for uvicorn's loggers too
        server_header=False,
    )
