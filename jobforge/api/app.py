"""The FastAPI application: `create_app` composes it from services it is given;
`create_app_from_settings` also opens (and later closes) those services itself.

No module-level state: everything a request needs is on `app.state.jobforge`, so any number
of apps can live in one process (the tests build one per backend and per case).

Serve it with uvicorn's factory mode:
`uvicorn --factory jobforge.api.app:create_app_from_settings`, or
`uvicorn.run(create_app_from_settings(settings), host=..., port=...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI

from jobforge.api.deps import ApiServices
from jobforge.api.errors import CONNECTION_ERRORS, install_error_handlers
from jobforge.api.middleware import BodyLimitMiddleware, RequestMetricsMiddleware
from jobforge.api.ratelimit import RateLimiter, open_rate_limiter
from jobforge.api.routes import dlq, health, jobs, metrics, queues
from jobforge.api.routes.events import create_events_router
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.routes import create_dashboard_router
from jobforge.domain.errors import StoreUnavailable
from jobforge.events import EventBus, open_event_bus
from jobforge.store import open_store
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

API_PREFIX = "/api/v1"
SMALL_BODY_LIMIT = 64 * 1024
"""Bodies of writes other than job submission (DLQ selectors, empty verbs) are small."""
BATCH_BODY_FLOOR = 16 * 1024 * 1024
"""A batch body may hold up to this much (or 4 payload limits, if more); each payload in it
is still held to `max_payload_bytes`."""
MIGRATE_RETRY_SECONDS = 5.0
_UNREACHABLE: tuple[type[Exception], ...] = (StoreUnavailable, *CONNECTION_ERRORS)

DESCRIPTION = """
Submit, inspect and steer background jobs.

Authenticate with `Authorization: Bearer <api key>` (`jobforge tenant create NAME` prints
one). Every call sees only the key's tenant; an admin key sees every tenant. Errors always
have the body `{"error": {"code", "message", "details"}}`.

Writes are rate limited per tenant (a token bucket, one token per job submitted) and per
client address (a sliding window of requests per minute); refusals are 429 with
`Retry-After` and `RateLimit-*` headers. Reads are not limited.
"""


def body_limits(settings: Settings) -> Callable[[str, str], int | None]:
    """(method, path) -> body limit for API writes; None elsewhere (pages, reads)."""
    # JSON escaping can make a request larger than the payload it carries, so the body may
    # be a little over twice the payload limit; the payload itself is measured exactly later.
    single = 2 * settings.max_payload_bytes + SMALL_BODY_LIMIT
    batch = max(BATCH_BODY_FLOOR, 4 * settings.max_payload_bytes)

    def limit_for(method: str, path: str) -> int | None:
        if method in {"GET", "HEAD", "OPTIONS"} or not path.startswith(API_PREFIX):
            return None
        if path == f"{API_PREFIX}/jobs":
            return single
        if path == f"{API_PREFIX}/jobs/batch":
            return batch
        return SMALL_BODY_LIMIT

    return limit_for


def create_app(
    settings: Settings,
    store: Store,
    bus: EventBus,
    control: JobControl,
    *,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The API over services the caller owns (and closes). A rate limiter is opened from
    `settings` unless one is given; only one opened here is closed on shutdown."""
    owned_limiter = limiter is None
    services = ApiServices(
        settings=settings,
        store=store,
        bus=bus,
        control=control,
        limiter=limiter if limiter is not None else open_rate_limiter(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned_limiter:
                await services.limiter.close()

    return _build(services, lifespan)


def create_app_from_settings(settings: Settings | None = None) -> FastAPI:
    """The API with its own store (migrated at startup), event bus (`open_event_bus`: Redis,
    else LISTEN/NOTIFY on PostgreSQL, else in-process), control and rate limiter, all closed
    on shutdown. What `jobforge api` and `jobforge up` serve."""
    settings = settings or Settings()
    store = open_store(settings.database_url, default_max_attempts=settings.default_max_attempts)
    bus = open_event_bus(settings, store.dialect)
    services = ApiServices(
        settings=settings,
        store=store,
        bus=bus,
        control=JobControl(store, bus),
        limiter=open_rate_limiter(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await _start_bus(bus)
        migration = asyncio.create_task(_migrate_until_done(store))
        try:
            yield
        finally:
            migration.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await migration
            await services.limiter.close()
            await bus.close()
            await store.close()

    return _build(services, lifespan)


async def _start_bus(bus: EventBus) -> None:
    # Live events are a convenience on top of the store; a bus that cannot connect yet
    # must not keep the API from serving.
    try:
        await bus.start()
    except Exception as exc:
        log.warning("event bus not started", error=repr(exc))


async def _migrate_until_done(store: Store) -> None:
    # The API starts even when the database is down (/health answers, /ready says 503);
    # the schema is brought up to date as soon as the database can be reached.
    while True:
        try:
            await store.migrate()
            return
        except _UNREACHABLE as exc:
            log.warning("migration postponed: store unreachable", error=repr(exc))
            await asyncio.sleep(MIGRATE_RETRY_SECONDS)


def _build(
    services: ApiServices,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> FastAPI:
    app = FastAPI(
        title="jobforge",
        version="1.0.0",
        summary="A distributed background job system.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.jobforge = services
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limits(services.settings))
    app.add_middleware(RequestMetricsMiddleware)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(jobs.router)
    api.include_router(dlq.router)
    api.include_router(queues.router)
    api.include_router(metrics.router)
    # ---- mount point: WS /api/v1/events (jobforge/api/routes/events.py, dashboard team) ----
    dashboard = DashboardContext.create(
        services.settings, services.store, services.bus, services.control
    )
    api.include_router(create_events_router(dashboard))
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(metrics.prometheus_router)
    # ---- mount point: the dashboard at / (jobforge/dashboard/routes.py, dashboard team) ----
    app.include_router(create_dashboard_router(dashboard))
    # Routers included here see `app.state.jobforge` (an ApiServices) like every route above.
    return app
