"""`/api/v1/queues`: per-queue counts and pause state; pause and resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from jobforge.api.deps import CurrentPrincipal, Services, WriteLimited, charge_tenant
from jobforge.api.fields import NAME_PATTERN, TenantName
from jobforge.api.openapi import READ_ERRORS, WRITE_ERRORS, error_responses
from jobforge.api.schemas import QueueList, QueueOut
from jobforge.store.params import QueueStats

router = APIRouter(prefix="/queues", tags=["queues"])

QueuePath = Annotated[str, Path(pattern=NAME_PATTERN, examples=["emails"])]
TenantQuery = Annotated[
    TenantName | None,
    Query(description="Admin keys only: act for this tenant (default: every tenant)."),
]


def queue_out(stats: QueueStats) -> QueueOut:
    """The wire form of a queue's stats."""
    return QueueOut(
        name=stats.name, counts=dict(stats.counts), length=stats.length, paused=stats.paused
    )


@router.get("", summary="List queues", responses=error_responses(*READ_ERRORS))
async def list_queues(
    services: Services, principal: CurrentPrincipal, tenant: TenantQuery = None
) -> QueueList:
    """Queues that hold jobs of the caller's tenant (every tenant for an admin) or are
    paused for it, with counts per state."""
    queues = await services.store.list_queues(tenant=principal.scope_for(tenant))
    return QueueList(items=[queue_out(q) for q in queues])


async def _one_queue(services: Services, name: str, scope: str | None) -> QueueOut:
    for stats in await services.store.list_queues(tenant=scope):
        if stats.name == name:
            return queue_out(stats)
    return QueueOut(name=name, counts={}, length=0, paused=False)


@router.post(
    "/{name}/pause",
    summary="Pause a queue",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS),
)
async def pause_queue(
    name: QueuePath,
    services: Services,
    principal: CurrentPrincipal,
    response: Response,
    tenant: TenantQuery = None,
) -> QueueOut:
    """Stop workers claiming the caller's jobs from this queue (an admin key pauses it for
    every tenant unless `tenant` is given). Running jobs finish; nothing is lost."""
    scope = principal.scope_for(tenant)
    await charge_tenant(services, principal, response, 1)
    await services.control.pause_queue(name, tenant=scope)
    return await _one_queue(services, name, scope)


@router.post(
    "/{name}/resume",
    summary="Resume a queue",
    dependencies=[WriteLimited],
    responses=error_responses(*WRITE_ERRORS),
)
async def resume_queue(
    name: QueuePath,
    services: Services,
    principal: CurrentPrincipal,
    response: Response,
    tenant: TenantQuery = None,
) -> QueueOut:
    """Undo a pause of the same scope."""
    scope = principal.scope_for(tenant)
    await charge_tenant(services, principal, response, 1)
    await services.control.resume_queue(name, tenant=scope)
    return await _one_queue(services, name, scope)
