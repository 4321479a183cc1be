"""`create_dashboard_router`: the dashboard's pages at `/`, served by the API process.

Include it in the app with the events router over the same context:

    dashboard = DashboardContext.create(settings, store, bus, control)
    api.include_router(create_events_router(dashboard))      # under /api/v1
    app.include_router(create_dashboard_router(dashboard))

The router's lifespan starts the live hub (and, on SQLite, the change poller) with the app
(so the throughput chart counts from process start) and stops it on shutdown; pages and the
event stream also start it on first use, for hosts that do not run lifespans (e.g. an ASGI
test transport).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter

from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.pages_auth import create_auth_router
from jobforge.dashboard.pages_jobs import create_jobs_router
from jobforge.dashboard.pages_ops import create_ops_router


def create_dashboard_router(ctx: DashboardContext) -> APIRouter:
    """Every dashboard page, form action and static file, over `ctx`."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await ctx.start()
        try:
            yield
        finally:
            await ctx.close()

    router = APIRouter(lifespan=lifespan, include_in_schema=False)
    router.include_router(create_auth_router(ctx))
    router.include_router(create_ops_router(ctx))
    router.include_router(create_jobs_router(ctx))
    return router
