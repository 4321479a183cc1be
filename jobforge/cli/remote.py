"""How client commands reach a server: `--url`/`JOBFORGE_URL`, `--api-key`/`JOBFORGE_API_KEY`,
and one SDK call per command whose API errors become a one-line message and exit 1."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from jobforge.cli.output import fail
from jobforge.client import AsyncClient, ClientError, Unauthorized

T = TypeVar("T")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="JOBFORGE_URL",
        help="Server URL [default: http://JOBFORGE_HOST:JOBFORGE_PORT, i.e. http://127.0.0.1:8000]",
        show_default=False,
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="JOBFORGE_API_KEY", help="API key.", show_default=False),
]


def server_url(url: str | None) -> str:
    """The `--url`, else the address `jobforge up` listens on by the same settings."""
    if url:
        return url
    from jobforge.config import Settings

    settings = Settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def call_api(
    url: str | None, api_key: str | None, work: Callable[[AsyncClient], Awaitable[T]]
) -> T:
    """Run `work` with a client for the server; an API error becomes one line and exit 1."""
    if not api_key:
        fail(
            "no API key: pass --api-key or set JOBFORGE_API_KEY "
            "(create one with `jobforge tenant create NAME`)"
        )

    async def run() -> T:
        async with AsyncClient(server_url(url), api_key) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except Unauthorized as exc:
        fail(f"{exc}: check --api-key / JOBFORGE_API_KEY")
    except ClientError as exc:
        fail(str(exc))


def job_id(text: str) -> str:
    """A job id argument, checked here so a typo is not a 422 from the server."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        fail(f"{text!r} is not a job id (ids look like 6ece9c3c-18b9-4b1d-b245-0b7eeb03f080)")
