"""`jobforge jobs list|show|retry|cancel`.

These commands are HTTP clients of a running jobforge (`jobforge up` or `jobforge api`),
through the SDK: `--url` / `JOBFORGE_URL` says where, `--api-key` / `JOBFORGE_API_KEY` who.
Failures print one line and exit non-zero; `--json` prints machine-readable output.
"""

from __future__ import annotations

from typing import Annotated

import typer

from jobforge.cli import app
from jobforge.cli.output import JsonOption, out, print_job, print_json, print_page, status_text
from jobforge.cli.remote import KeyOption, UrlOption, call_api, job_id

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
