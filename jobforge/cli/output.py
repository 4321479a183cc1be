"""What the CLI prints: one-line errors, JSON for scripts, and tables of jobs for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from jobforge.client import JobInfo, JobPage

# Piped output gets wide tables: rich would squeeze them into 80 columns and cut off ids.
_WIDTH = None if sys.stdout.isatty() else 200
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    raise typer.Exit(code)


def print_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    """One JSON document on stdout (no colour, no wrapping: safe to pipe into jq)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    sys.stdout.write(json.dumps(data) + "\n")


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
