"""`/api/v1/jobs`: submit (one or a batch), list, show, retry and cancel jobs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobforge.api.auth import Principal
from jobforge.api.deps import CurrentPrincipal, Services, WriteLimited, charge_tenant
from jobforge.api.errors import ApiError
from jobforge.api.fields import KEY_PATTERN, MAX_BATCH
from jobforge.api.idempotency import REPLAYED_HEADER, conflict, mismatched_fields, resolve_key
from jobforge.api.openapi import READ_ERRORS, WRITE_ERRORS, error_responses
from jobforge.api.payloads import check_payload
from jobforge.api.routes.listing import ListFilters, fetch_page
from jobforge.api.schemas import BatchCreate, BatchOut, JobCreate, JobList, JobOut
from jobforge.config import Settings
from jobforge.domain.job import NewJob
from jobforge.observability.metrics import JOBS_SUBMITTED
from jobforge.store.params import EnqueueResult

router = APIRouter(prefix="/jobs", tags=["jobs"])

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="Submitting again with the same key returns the original job (200).",
    ),
]

_REPLAY_RESPONSE = {
    "model": JobOut,
    "description": "Idempotent replay: the job first created with this key.",
    "headers": {
        REPLAYED_HEADER: {
            "description": "Always `true` on a replay.",
            "schema": {"type": "string", "enum": ["true"]},
        }
    },
}


def to_new_job(
    body: JobCreate, principal: Principal, settings: Settings, key: str | None
) -> NewJob:
    """The domain job a request asks for, with server defaults filled in.

    `max_attempts` is resolved here rather than in the store so that an idempotent replay
    compares like with like."""
    check_payload(body.payload, max_bytes=settings.max_payload_bytes)
    try:
        return NewJob(
            type=body.type,
            payload=body.payload,
            tenant=principal.owner_for(body.tenant),
            queue=body.queue,
            priority=body.priority,
            max_attempts=body.max_attempts or settings.default_max_attempts,
            run_at=body.run_at,
            timeout_seconds=body.timeout_seconds,
            idempotency_key=key,
            trace_id=body.trace_id,
        )
    except ValueError as exc:
        raise ApiError(422, "validation_error", str(exc)) from exc


def _check_replay(new: NewJob, result: EnqueueResult, *, index: int | None = None) -> None:
    if result.created or new.idempotency_key is None:
        return
    fields = mismatched_fields(new, result.job)
    if fields:
        raise conflict(new.idempotency_key, fields, result.job, index=index)


@router.post(
    "",
    status_code=201,
    summary="Submit a job",
    dependencies=[WriteLimited],
    responses={200: _REPLAY_RESPONSE, **error_responses(*WRITE_ERRORS, 409)},
)
async def create_job(
    body: JobCreate,
    services: Services,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: IdempotencyHeader = None,
) -> JobOut:
    """Create one job (201). With an idempotency key seen before for this tenant, return
    the original job with 200 and `Idempotent-Replayed: true`; a different request under
    the same key is a 409. Costs one token of the tenant's rate limit."""
    key = resolve_key(idempotency_key, body.idempotency_key)
    new = to_new_job(body, principal, services.settings, key)
    await charge_tenant(services, principal, response, 1)
    result = await services.control.submit(new)
    _check_replay(new, result)
    if result.created:
        JOBS_SUBMITTED.labels(queue=new.queue).inc()
    else:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"
    return JobOut.from_domain(result.job)


@router.post(
    "/batch",
    status_code=201,
    summary="Submit up to 1,000 jobs in one transaction",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS, 409),
)
async def create_jobs(
    body: BatchCreate, services: Services, principal: CurrentPrincipal, response: Response
) -> BatchOut:
    """Create every job or none. Each job may carry its own `idempotency_key` (replays come
    back as they were first created). Costs one token per job: a batch larger than the
    tenant's burst is admitted when the bucket is full and leaves it in debt."""
    news = [to_new_job(job, principal, services.settings, job.idempotency_key) for job in body.jobs]
    _refuse_repeated_keys(news)
    await charge_tenant(services, principal, response, len(news))
    results = await services.control.submit_many(news)
    for index, (new, result) in enumerate(zip(news, results, strict=True)):
        _check_replay(new, result, index=index)
    created = [r for r in results if r.created]
    for r in created:
        JOBS_SUBMITTED.labels(queue=r.job.queue).inc()
    return BatchOut(
        jobs=[JobOut.from_domain(r.job) for r in results],
        created=len(created),
        replayed=len(results) - len(created),
    )


@router.api_route("/batch", methods=["GET", "HEAD"], include_in_schema=False)
async def batch_is_not_a_job() -> None:
    """`/jobs/batch` only takes POST: without this route, `GET /jobs/{job_id}` would claim
    the path and answer a 422 about "batch" not being a job id."""
    raise StarletteHTTPException(405)


def _refuse_repeated_keys(news: list[NewJob]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, new in enumerate(news):
        if new.idempotency_key is None:
            continue
        first = seen.setdefault((new.tenant, new.idempotency_key), index)
        if first != index:
            raise ApiError(
                422,
                "validation_error",
                f"jobs {first} and {index} use the same idempotency_key",
                details=[
                    {
                        "field": f"body.jobs.{index}.idempotency_key",
                        "message": f"repeats the key of job {first}",
                        "type": "value_error",
                    }
                ],
            )


@router.get("", summary="List jobs", responses=error_responses(*READ_ERRORS))
async def list_jobs(
    filters: Annotated[ListFilters, Query()], services: Services, principal: CurrentPrincipal
) -> JobList:
    """Jobs newest first, filtered by status, type, queue, `q` (a job id or idempotency key
    prefix) and creation time. Page with `offset`, or with `cursor` (the previous page's
    `next_cursor`), which stays stable while new jobs arrive."""
    return await fetch_page(services, principal, filters, statuses=filters.status)


@router.get("/{job_id}", summary="Show a job", responses=error_responses(*READ_ERRORS, 404))
async def get_job(job_id: uuid.UUID, services: Services, principal: CurrentPrincipal) -> JobOut:
    """One job with its attempt history. Another tenant's job is a 404."""
    return JobOut.from_domain(await services.store.get_job(job_id, tenant=principal.scope))


@router.post(
    "/{job_id}/retry",
    summary="Retry a failed, dead or cancelled job",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS, 404, 409),
)
async def retry_job(
    job_id: uuid.UUID, services: Services, principal: CurrentPrincipal, response: Response
) -> JobOut:
    """Move the job back to `pending` with its attempts reset and its history kept; 409 from
    any other state."""
    await charge_tenant(services, principal, response, 1)
    job = await services.control.retry(job_id, tenant=principal.scope, actor=principal.key_id)
    return JobOut.from_domain(job)


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a job",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS, 404, 409),
)
async def cancel_job(
    job_id: uuid.UUID, services: Services, principal: CurrentPrincipal, response: Response
) -> JobOut:
    """Cancel a pending, scheduled or failed job at once. A running job is asked to stop
    (`cancel_requested`), and becomes `cancelled` when its handler does. 409 once finished."""
    await charge_tenant(services, principal, response, 1)
    job = await services.control.cancel(job_id, tenant=principal.scope, actor=principal.key_id)
    return JobOut.from_domain(job)


__all__ = ["MAX_BATCH", "router", "to_new_job"]
