"""`jobforge dlq list|retry|purge`: the dead-letter queue of a running server."""

from __future__ import annotations

from typing import Annotated

import typer

from jobforge.cli import app
from jobforge.cli.output import JsonOption, out, print_json, print_page
from jobforge.cli.remote import KeyOption, UrlOption, call_api

dlq_app = typer.Typer(help="Inspect, retry and purge dead jobs.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

TypeFilter = Annotated[
    list[str] | None, typer.Option("--type", "-t", help="Only this job type (repeatable).")
]
QueueFilter = Annotated[
    list[str] | None, typer.Option("--queue", "-q", help="Only this queue (repeatable).")
]
IdFilter = Annotated[list[str] | None, typer.Option("--id", help="Only this job id (repeatable).")]


def describe(types: list[str] | None, queues: list[str] | None, ids: list[str] | None) -> str:
    parts = [
        f"{name} {', '.join(values)}"
        for name, values in (("type", types), ("queue", queues), ("id", ids))
        if values
    ]
    return "all dead jobs" if not parts else "dead jobs with " + "; ".join(parts)


@dlq_app.command("list")
def list_dead(
    type: TypeFilter = None,
    queue: QueueFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    cursor: Annotated[str | None, typer.Option(help="From a previous page.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List dead jobs, newest first."""
    page = call_api(
        url,
        api_key,
        lambda c: c.list_dead(type=type, queue=queue, limit=limit, offset=offset, cursor=cursor),
    )
    if as_json:
        print_json(page)
    else:
        print_page(page, "dead jobs")


@dlq_app.command("retry")
def retry_dead(
    type: TypeFilter = None,
    queue: QueueFilter = None,
    job_id: IdFilter = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send dead jobs back to pending (all of them, or those matching every filter)."""
    count = call_api(
        url,
        api_key,
        lambda c: c.retry_dead(types=type or (), queues=queue or (), job_ids=job_id or ()),
    )
    if as_json:
        print_json({"count": count})
    else:
        out.print(f"retried {count} dead job{'' if count == 1 else 's'}")


@dlq_app.command("purge")
def purge_dead(
    type: TypeFilter = None,
    queue: QueueFilter = None,
    job_id: IdFilter = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    url: UrlOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete dead jobs for good (all of them, or those matching every filter)."""
    if not yes:
        typer.confirm(f"Delete {describe(type, queue, job_id)}?", abort=True)
    count = call_api(
        url,
        api_key,
        lambda c: c.purge_dead(types=type or (), queues=queue or (), job_ids=job_id or ()),
    )
    if as_json:
        print_json({"count": count})
    else:
        out.print(f"deleted {count} dead job{'' if count == 1 else 's'}")
