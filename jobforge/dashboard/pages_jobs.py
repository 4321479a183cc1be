"""The jobs table with its bulk actions, a job's detail page, and the create-job form."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, QueryParams

from jobforge.dashboard import queries
from jobforge.dashboard.actions import BulkAction, apply_bulk, apply_one
from jobforge.dashboard.auth import Viewer
from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.create import CreateForm
from jobforge.dashboard.filters import RANGE_LABELS, JobFilters
from jobforge.dashboard.web import (
    checked_form,
    current_viewer,
    forbidden,
    form_text,
    login_redirect,
    not_found,
    redirect,
    render,
    safe_next,
)
from jobforge.domain.errors import IllegalTransition, JobNotFound
from jobforge.domain.job import Job
from jobforge.domain.states import CANCELLABLE, RETRYABLE_BY_USER, JobState


def create_jobs_router(ctx: DashboardContext) -> APIRouter:
    router = APIRouter()

    @router.get("/jobs", include_in_schema=False)
    async def jobs_page(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        filters = _filters(request.query_params, viewer)
        params = filters.params(scope=viewer.scope, now=await ctx.store.now())
        listing = await queries.list_jobs(
            ctx.store, params, page=filters.page, per_page=filters.per_page
        )
        return render(
            ctx,
            request,
            "jobs.html",
            viewer=viewer,
            listing=listing,
            filters=filters,
            states=list(JobState),
            ranges=RANGE_LABELS,
            query=request.url.query,
        )

    @router.post("/jobs/bulk", include_in_schema=False)
    async def bulk(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        form = await checked_form(request, viewer)
        if form is None:
            return forbidden(ctx, request, viewer)
        return await _bulk(ctx, request, viewer, form)

    @router.get("/jobs/new", include_in_schema=False)
    async def new_job_page(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        return render(ctx, request, "create.html", viewer=viewer, form=CreateForm(), errors={})

    @router.post("/jobs/new", include_in_schema=False)
    async def create_job(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        form = await checked_form(request, viewer)
        if form is None:
            return forbidden(ctx, request, viewer)
        entered = CreateForm.from_form(form)
        new_job, errors = entered.validate(
            tenant=viewer.tenant,
            now=await ctx.store.now(),
            max_payload_bytes=ctx.settings.max_payload_bytes,
        )
        if new_job is None:
            return render(
                ctx,
                request,
                "create.html",
                viewer=viewer,
                form=entered,
                errors=errors,
                status_code=422,
            )
        result = await ctx.control.submit(new_job)
        message = "Job submitted." if result.created else "A job with this key exists: shown."
        return redirect(ctx, f"/jobs/{result.job.id}", message)

    @router.get("/jobs/{job_id}", include_in_schema=False)
    async def job_page(request: Request, job_id: str) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        job = await _job(ctx, job_id, viewer)
        if job is None:
            return not_found(ctx, request, viewer)
        template = "job_live.html" if request.query_params.get("fragment") else "job.html"
        timeline = await queries.timeline(ctx.store, job, ctx.hub, scope=viewer.scope)
        return render(
            ctx,
            request,
            template,
            viewer=viewer,
            job=job,
            timeline=timeline,
            retryable=RETRYABLE_BY_USER,
            cancellable=CANCELLABLE | {JobState.RUNNING},
        )

    @router.post("/jobs/{job_id}/{verb}", include_in_schema=False)
    async def job_action(request: Request, job_id: str, verb: str) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return login_redirect(request)
        if await checked_form(request, viewer) is None:
            return forbidden(ctx, request, viewer)
        job = await _job(ctx, job_id, viewer)
        if job is None:
            return not_found(ctx, request, viewer)
        try:
            action = BulkAction(verb)
            await apply_one(ctx.control, action, job, viewer)
        except ValueError:
            return redirect(ctx, f"/jobs/{job.id}", "Unknown action.", error=True)
        except (IllegalTransition, JobNotFound) as exc:
            return redirect(ctx, f"/jobs/{job.id}", str(exc), error=True)
        if action is BulkAction.DELETE:
            return redirect(ctx, "/jobs", f"Job {job.id} deleted.")
        done = {BulkAction.RETRY: "sent back to pending", BulkAction.CANCEL: "cancel requested"}
        return redirect(ctx, f"/jobs/{job.id}", f"Job {done[action]}.")

    return router


def _filters(query: QueryParams, viewer: Viewer) -> JobFilters:
    return JobFilters.parse(query, query.getlist("status"), admin=viewer.is_admin)


async def _job(ctx: DashboardContext, job_id: str, viewer: Viewer) -> Job | None:
    try:
        return await ctx.store.get_job(uuid.UUID(job_id), tenant=viewer.scope)
    except (ValueError, JobNotFound):
        return None


async def _bulk(
    ctx: DashboardContext, request: Request, viewer: Viewer, form: FormData
) -> Response:
    """First post: count and ask for confirmation. Second post (`confirm`): act."""
    filter_query = form_text(form, "filter")
    back = f"/jobs?{filter_query}" if filter_query else "/jobs"
    try:
        action = BulkAction(form_text(form, "action"))
    except ValueError:
        return redirect(ctx, back, "Choose an action.", error=True)
    everything = form_text(form, "target") == "all"
    filters = _filters(QueryParams(filter_query), viewer)
    params = filters.params(scope=viewer.scope, now=await ctx.store.now())
    ids = [i for raw in form.getlist("ids") if isinstance(raw, str) and (i := _uuid(raw))]
    if not everything and not ids:
        return redirect(ctx, back, "Select some jobs first.", error=True)
    if form_text(form, "confirm") != "yes":
        count = await queries.count_jobs(ctx.store, params) if everything else len(ids)
        return render(
            ctx,
            request,
            "bulk_confirm.html",
            viewer=viewer,
            action=action,
            count=count,
            everything=everything,
            ids=ids,
            filter_query=filter_query,
            back=safe_next(form_text(form, "back")) if form_text(form, "back") else back,
            limit=queries.BULK_LIMIT,
        )
    if everything:
        ids = [job.id for job in await queries.select_jobs(ctx.store, params)]
    result = await apply_bulk(ctx.control, action, ids[: queries.BULK_LIMIT], viewer)
    verb = {
        BulkAction.RETRY: "Retried",
        BulkAction.CANCEL: "Cancelled",
        BulkAction.DELETE: "Deleted",
    }[action]
    message = f"{verb} {result.done} job{'s' * (result.done != 1)}"
    if result.skipped:
        message += f"; skipped {result.skipped} in a state that does not allow it, or gone"
    return redirect(ctx, back, message + ".")


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
