"""`/health` (the process answers) and `/ready` (the store answers), outside `/api/v1`."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobforge.api.deps import Services
from jobforge.api.errors import CONNECTION_ERRORS, STORE_RETRY_AFTER_SECONDS, envelope
from jobforge.api.schemas import ErrorEnvelope, HealthOut, ReadyOut
from jobforge.domain.errors import StoreError

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)

_NOT_READY: tuple[type[Exception], ...] = (StoreError, *CONNECTION_ERRORS)

READY_TIMEOUT_SECONDS = 2.0
"""A ping slower than this counts as unreachable: a load balancer should not wait longer."""


@router.get("/health", summary="Liveness")
async def health() -> HealthOut:
    """200 while the process serves requests, whatever the state of the store."""
    return HealthOut(status="ok")


@router.get(
    "/ready",
    summary="Readiness",
    response_model=ReadyOut,
    responses={
        503: {
            "model": ErrorEnvelope,
            "description": "The store is unreachable.",
            "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
        }
    },
)
async def ready(services: Services) -> ReadyOut | JSONResponse:
    """200 when the store answers a ping; 503 with `Retry-After` when it does not."""
    limiter = services.limiter.backend
    if limiter != "memory":
        limiter = f"{limiter}:{await services.limiter.health()}"
    try:
        await asyncio.wait_for(services.store.ping(), READY_TIMEOUT_SECONDS)
    except _NOT_READY as exc:
        log.warning("not ready: store unreachable", error=repr(exc))
        return JSONResponse(
            envelope(
                "store_unavailable",
                "the job store is unreachable",
                {"store": "unreachable", "rate_limiter": limiter},
            ),
            status_code=503,
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        )
    return ReadyOut(status="ready", store="ok", rate_limiter=limiter)
