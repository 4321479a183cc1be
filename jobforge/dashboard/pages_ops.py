"""Overview, dead letters, queues, and the static files.

`/ui/overview.json` is what live.js refetches on the overview and queues pages (at most
about once a second while events arrive, and every few seconds regardless, for changes no
event announces, such as a pause from another browser).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from jobforge.dashboard import queries
from jobforge.dashboard.chart import WINDOWS, throughput_chart
from jobforge.dashboard.context import STATIC, DashboardContext
from jobforge.dashboard.filters import JobFilters
from jobforge.dashboard.web import (
    checked_form,
    current_viewer,
    forbidden,
    form_text,
    login_redirect,
    redirect,
    render,
    secure,
)
from jobforge.domain.states import JobState
from jobforge.store.params import DeadJobFilter

STATIC_FILES = {"app.css": "text/css", "live.js": "text/javascript"}


def create_ops_router(ctx: DashboardContext) -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def overview_page(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        data = await queries.overview(ctx.store, ctx.hub, scope=viewer.scope, admin=viewer.is_admin)
        chart = throughput_chart(data.throughput, request.query_params.get("window", ""))
        return render(
            ctx, request, "overview.html", viewer=viewer, o=data, chart=chart, windows=WINDOWS
        )

    @router.get("/ui/overview.json", include_in_schema=False)
    async def overview_json(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return JSONResponse({"error": "not signed in"}, status_code=401)
        data = await queries.overview(ctx.store, ctx.hub, scope=viewer.scope, admin=viewer.is_admin)
        return secure(JSONResponse(overview_payload(data)))

    @router.get("/dlq", include_in_schema=False)
    async def dlq_page(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        filters = JobFilters.parse(request.query_params, [], admin=viewer.is_admin)
        filters = JobFilters(
            statuses=(JobState.DEAD,), page=filters.page, per_page=filters.per_page
        )
        now = await ctx.store.now()
        listing = await queries.list_jobs(
            ctx.store,
            filters.params(scope=viewer.scope, now=now),
            page=filters.page,
            per_page=filters.per_page,
        )
        return render(ctx, request, "dlq.html", viewer=viewer, listing=listing, filters=filters)

    @router.post("/dlq/retry", include_in_schema=False)
    async def dlq_retry(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        form = await checked_form(request, viewer)
        if form is None:
            return forbidden(ctx, request, viewer)
        raw_id = form_text(form, "job_id")  # absent: retry every dead job in scope
        job_id = _uuid(raw_id)
        if raw_id and job_id is None:
            return redirect(ctx, "/dlq", "No such job.", error=True)
        selector = DeadJobFilter(tenant=viewer.scope, job_ids=(job_id,) if job_id else ())
        count = await ctx.control.retry_dead(selector, actor=viewer.actor)
        return redirect(ctx, "/dlq", f"Sent {count} dead job{'s' * (count != 1)} back to pending.")

    @router.post("/dlq/purge", include_in_schema=False)
    async def dlq_purge(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        form = await checked_form(request, viewer)
        if form is None:
            return forbidden(ctx, request, viewer)
        if form_text(form, "confirm") != "purge":
            return redirect(ctx, "/dlq", "Type purge to confirm.", error=True)
        count = await ctx.control.purge_dead(DeadJobFilter(tenant=viewer.scope))
        return redirect(ctx, "/dlq", f"Purged {count} dead job{'s' * (count != 1)}.")

    @router.get("/queues", include_in_schema=False)
    async def queues_page(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        found = await ctx.store.list_queues(tenant=viewer.scope)
        return render(
            ctx, request, "queues.html", viewer=viewer, queues=found, states=list(JobState)
        )

    @router.post("/queues/{name}/{verb}", include_in_schema=False)
    async def queue_action(request: Request, name: str, verb: str) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        if await checked_form(request, viewer) is None:
            return forbidden(ctx, request, viewer)
        if verb == "pause":
            await ctx.control.pause_queue(name, tenant=viewer.scope)
        elif verb == "resume":
            await ctx.control.resume_queue(name, tenant=viewer.scope)
        else:
            return redirect(ctx, "/queues", "Unknown queue action.", error=True)
        return redirect(ctx, "/queues", f"Queue {name} {verb}d.")

    @router.get("/ui/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            return Response(status_code=404)
        response = FileResponse(STATIC / name, media_type=media_type)
        response.headers["Cache-Control"] = "no-cache"
        return response

    return router


def overview_payload(data: queries.Overview) -> dict[str, Any]:
    """The overview as JSON for live.js (numbers and names only; the browser escapes)."""
    return {
        "counts": {state.value: data.summary.counts.get(state, 0) for state in JobState},
        "total": data.summary.total,
        "completed_last_minute": data.summary.completed_last_minute,
        "failed_last_minute": data.summary.failed_last_minute,
        "queues": [
            {
                "name": q.name,
                "length": q.length,
                "paused": q.paused,
                "running": q.counts.get(JobState.RUNNING, 0),
                "counts": {state.value: q.counts.get(state, 0) for state in JobState},
            }
            for q in data.queues
        ],
        "workers": None
        if data.workers is None
        else [
            {
                "id": w.id,
                "host": w.host,
                "pid": w.pid,
                "queues": list(w.queues),
                "running": w.running,
                "concurrency": w.concurrency,
                "last_seen_at": w.last_seen_at.isoformat(),
            }
            for w in data.workers
        ],
        "throughput": [[s, c, f] for s, c, f in data.throughput],
        "now": data.now.isoformat(),
    }


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
