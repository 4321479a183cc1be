"""Metrics: the JSON summary at `/api/v1/metrics` and Prometheus text at `/metrics`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from jobforge.api.deps import CurrentPrincipal, Services
from jobforge.api.fields import TenantName
from jobforge.api.openapi import READ_ERRORS, error_responses
from jobforge.api.schemas import MetricsOut, Throughput, WorkerList, WorkerOut
from jobforge.domain.states import JobState
from jobforge.observability.metrics import (
    CONTENT_TYPE_LATEST,
    JOBS_BY_STATE,
    WORKERS_ALIVE,
    render_latest,
)
from jobforge.store.params import MetricsSummary

router = APIRouter(tags=["metrics"])
prometheus_router = APIRouter(tags=["metrics"])


def summary_out(summary: MetricsSummary, tenant: str | None) -> MetricsOut:
    """The JSON summary DESIGN.md names, from the store's counts per state."""

    def count(state: JobState) -> int:
        return summary.counts.get(state, 0)

    return MetricsOut(
        tenant=tenant,
        total_jobs=summary.total,
        pending_jobs=count(JobState.PENDING),
        scheduled_jobs=count(JobState.SCHEDULED),
        running_jobs=count(JobState.RUNNING),
        active_jobs=count(JobState.RUNNING),
        completed_jobs=count(JobState.COMPLETED),
        failed_jobs=count(JobState.FAILED),
        dead_letter_jobs=count(JobState.DEAD),
        dlq_jobs=count(JobState.DEAD),
        cancelled_jobs=count(JobState.CANCELLED),
        queue_length=count(JobState.PENDING),
        retry_queue_length=count(JobState.FAILED),
        dlq_length=count(JobState.DEAD),
        throughput=Throughput(
            completed_last_minute=summary.completed_last_minute,
            failed_last_minute=summary.failed_last_minute,
            completed_per_second=round(summary.completed_last_minute / 60, 3),
            failed_per_second=round(summary.failed_last_minute / 60, 3),
        ),
    )


@router.get(
    "/metrics", summary="Job counts and throughput", responses=error_responses(*READ_ERRORS)
)
async def metrics_summary(
    services: Services, principal: CurrentPrincipal, tenant: TenantName | None = None
) -> MetricsOut:
    """Counts per state and recent throughput for the caller's tenant (every tenant for an
    admin key, or the one it names)."""
    scope = principal.scope_for(tenant)
    return summary_out(await services.store.metrics_summary(tenant=scope), scope)


@router.get("/workers", summary="Live workers", responses=error_responses(*READ_ERRORS))
async def list_workers(services: Services, _principal: CurrentPrincipal) -> WorkerList:
    """Worker processes seen within one lease period. Workers are shared by every tenant;
    the list carries no job data."""
    seen_after = await services.store.now() - timedelta(seconds=services.settings.lease_seconds)
    workers = await services.store.list_workers(seen_after=seen_after)
    return WorkerList(
        items=[
            WorkerOut(
                id=w.id,
                host=w.host,
                pid=w.pid,
                queues=list(w.queues),
                concurrency=w.concurrency,
                running=w.running,
                started_at=w.started_at,
                last_seen_at=w.last_seen_at,
            )
            for w in workers
        ]
    )


@prometheus_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def prometheus_metrics(services: Services) -> Response:
    """Prometheus text exposition. Queue gauges are refreshed from the store on each scrape;
    if the store is down the page is still served, with the last values."""
    await _refresh_gauges(services)
    return Response(render_latest(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_gauges(services: Services) -> None:
    try:
        queues = await services.store.list_queues(tenant=None)
        seen_after = await services.store.now() - timedelta(seconds=services.settings.lease_seconds)
        workers = await services.store.list_workers(seen_after=seen_after)
    except Exception:  # a scrape must not fail because the store did
        return
    for stats in queues:
        for state in JobState:
            JOBS_BY_STATE.labels(queue=stats.name, state=state.value).set(
                stats.counts.get(state, 0)
            )
    WORKERS_ALIVE.set(len(workers))
