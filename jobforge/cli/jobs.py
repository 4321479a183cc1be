"""`jobforge jobs list|show|retry|cancel`, and what every command that talks to a server shares.

These commands are HTTP clients of a running jobforge (`jobforge up` or `jobforge api`),
through the SDK: `--url` / `JOBFORGE_URL` says where, `--api-key` / `JOBFORGE_API_KEY` who.
Failures print one line and exit non-zero; `--json` prints machine-readable output.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from jobforge.cli import app
from jobforge.client import AsyncClient, ClientError, JobInfo, JobPage, Unauthorized

T = TypeVar("T")

# Piped output gets wide tables: rich would squeeze them into 80 columns and cut off ids.
_WIDTH = None if sys.stdout.isatty() else 200
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    raise typer.Exit(code)


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


def print_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    """One JSON document on stdout (no colour, no wrapping: safe to pipe into jq)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    sys.stdout.write(json.dumps(data) + "\n")


def job_id(text: str) -> str:
    """A job id argument, checked here so a typo is not a 422 from the server."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        fail(f"{text!r} is not a job id (ids look like 6ece9c3c-18b9-4b1d-b245-0b7eeb03f080)")


def when(value: datetime | None) -> str:
    """A timestamp as `2026-11-23 09:41:07` (UTC), or `-`."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


STATUS_STYLE = {
    "pending": "cyan",
    "scheduled": "blue",
    "running": "yellow",
    "completed": "green",
    "failed": "magenta",
    "dead": "red",
    "cancelled": "dim",
}


def status_text(job: JobInfo) -> str:
    style = STATUS_STYLE.get(job.status.value, "")
    return f"[{style}]{job.status.value}[/{style}]" if style else job.status.value


def jobs_table(page: JobPage, title: str) -> Table:
    """A page of jobs as a table, with where the page sits in the whole."""
    table = Table(title=title, title_justify="left")
    for column in ("id", "type", "queue", "status", "attempts", "created (UTC)", "last error"):
        table.add_column(column, no_wrap=column in ("id", "created (UTC)"))
    for job in page.items:
        table.add_row(
            str(job.id),
            job.type,
            job.queue,
            status_text(job),
            f"{job.attempts}/{job.max_attempts}",
            when(job.created_at),
            (job.last_error or "")[:60],
        )
    return table


def print_page(page: JobPage, title: str) -> None:
    if not page.items and page.offset == 0 and page.next_cursor is None:
        out.print(f"no {title}")
        return
    out.print(jobs_table(page, title))
    shown = f"{page.offset + 1}-{page.offset + len(page.items)}" if page.items else "0"
    total = "?" if page.total is None else str(page.total)
    line = f"{shown} of {total}"
    if page.next_cursor:
        line += f"; next page: --cursor {page.next_cursor}"
    out.print(line)


def print_job(job: JobInfo) -> None:
    """Every field of one job, then its attempt history."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str]] = [
        ("id", str(job.id)),
        ("tenant", job.tenant),
        ("type", job.type),
        ("queue", job.queue),
        ("status", status_text(job)),
        ("attempts", f"{job.attempts}/{job.max_attempts}"),
        ("priority", str(job.priority)),
        ("payload", json.dumps(job.payload)),
        ("result", json.dumps(job.result)),
        ("idempotency key", job.idempotency_key or "-"),
        ("worker", job.worker_id or "-"),
        ("run at", when(job.run_at)),
        ("created", when(job.created_at)),
        ("started", when(job.started_at)),
        ("finished", when(job.finished_at)),
        ("last error", job.last_error or "-"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    if job.errors:
        history = Table(title="attempts", title_justify="left")
        for column in ("#", "at (UTC)", "error"):
            history.add_column(column)
        for attempt in job.errors:
            history.add_row(str(attempt.attempt), when(attempt.at), attempt.message)
        out.print(history)


jobs_app = typer.Typer(help="List, inspect, retry and cancel jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_jobs(
    status: Annotated[list[str] | None, typer.Option("--status", "-s", help="Repeatable.")] = None,
    type: Annotated[list[str] | None, typer.Option("--type", "-t", help="Repeatable.")] = None,
    queue: Annotated[list[str] | None, typer.Option("--queue", "-q", help="Repeatable.")] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Job id or idempotency key prefix.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    cursor: Annotated[str | None, typer.Option(help="From a previous page.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    page = call_api(
        url,
        api_key,
        lambda c: c.list_jobs(
            status=status,
            type=type,
            queue=queue,
            q=search,
            limit=limit,
            offset=offset,
            cursor=cursor,
        ),
    )
    if as_json:
        print_json(page)
    else:
        print_page(page, "jobs")


@jobs_app.command("show")
def show_job(
    id: Annotated[str, typer.Argument(help="The job's id.", metavar="JOB_ID")],
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one job with its attempt history."""
    checked = job_id(id)
    job = call_api(url, api_key, lambda c: c.get_job(checked))
    if as_json:
        print_json(job)
    else:
        print_job(job)


@jobs_app.command("retry")
def retry_job(
    id: Annotated[
        str, typer.Argument(help="A failed, dead or cancelled job's id.", metavar="JOB_ID")
    ],
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a failed, dead or cancelled job back to pending."""
    checked = job_id(id)
    job = call_api(url, api_key, lambda c: c.retry_job(checked))
    if as_json:
        print_json(job)
    else:
        out.print(f"job {job.id} is {status_text(job)} again ({job.type})")


@jobs_app.command("cancel")
def cancel_job(
    id: Annotated[str, typer.Argument(help="The job's id.", metavar="JOB_ID")],
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a job; a running job is asked to stop."""
    checked = job_id(id)
    job = call_api(url, api_key, lambda c: c.cancel_job(checked))
    if as_json:
        print_json(job)
    elif job.cancel_requested and job.status.value == "running":
        out.print(f"job {job.id} is running; it was asked to stop")
    else:
        out.print(f"job {job.id} is {status_text(job)}")
