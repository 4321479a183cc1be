"""`/api/v1/dlq`: the dead-letter queue — list, retry (all or filtered) and purge."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from jobforge.api.deps import CurrentPrincipal, Services, WriteLimited, charge_tenant
from jobforge.api.fields import MAX_BATCH, JobType, QueueName, TenantName
from jobforge.api.openapi import READ_ERRORS, WRITE_ERRORS, error_responses
from jobforge.api.routes.listing import JobFilters, fetch_page
from jobforge.api.schemas import CountOut, DeadJobSelector, JobList
from jobforge.domain.states import JobState
from jobforge.store.params import DeadJobFilter

router = APIRouter(prefix="/dlq", tags=["dead letters"])


class PurgeFilters(BaseModel):
    """Which dead jobs to delete; every parameter narrows, none selects them all."""

    type: list[JobType] = Field(default_factory=list, max_length=100)
    queue: list[QueueName] = Field(default_factory=list, max_length=100)
    job_id: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_BATCH)
    tenant: TenantName | None = Field(default=None, description="Admin keys only.")


@router.get("", summary="List dead jobs", responses=error_responses(*READ_ERRORS))
async def list_dead_jobs(
    filters: Annotated[JobFilters, Query()], services: Services, principal: CurrentPrincipal
) -> JobList:
    """Dead jobs, newest first, with the same filters and paging as `GET /jobs`."""
    return await fetch_page(services, principal, filters, statuses=[JobState.DEAD])


@router.post(
    "/retry",
    summary="Retry dead jobs",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS),
)
async def retry_dead_jobs(
    services: Services,
    principal: CurrentPrincipal,
    response: Response,
    selector: Annotated[DeadJobSelector | None, Body()] = None,
) -> CountOut:
    """Send every dead job (or those the body selects) back to `pending`, attempts reset
    and history kept. Costs one rate-limit token however many jobs move."""
    selector = selector or DeadJobSelector()
    await charge_tenant(services, principal, response, 1)
    count = await services.control.retry_dead(
        DeadJobFilter(
            tenant=principal.scope_for(selector.tenant),
            types=tuple(selector.types),
            queues=tuple(selector.queues),
            job_ids=tuple(selector.job_ids),
        ),
        actor=principal.key_id,
    )
    return CountOut(count=count)


@router.delete(
    "",
    summary="Purge dead jobs",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS),
)
async def purge_dead_jobs(
    filters: Annotated[PurgeFilters, Query()],
    services: Services,
    principal: CurrentPrincipal,
    response: Response,
) -> CountOut:
    """Delete every dead job (or those the parameters select); returns how many."""
    await charge_tenant(services, principal, response, 1)
    count = await services.control.purge_dead(
        DeadJobFilter(
            tenant=principal.scope_for(filters.tenant),
            types=tuple(filters.type),
            queues=tuple(filters.queue),
            job_ids=tuple(filters.job_id),
        )
    )
    return CountOut(count=count)
