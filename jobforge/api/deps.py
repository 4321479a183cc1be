"""FastAPI dependencies: the app's services, the calling principal, and write rate limits.

Everything a request needs hangs off `app.state.jobforge` (an `ApiServices`), so two apps
in one process (as in the tests) never share a store, a limiter or a setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobforge.api.auth import Principal, authenticate, bearer_token
from jobforge.api.errors import ApiError
from jobforge.api.ratelimit import RateDecision, RateLimiter
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.events import EventBus
from jobforge.observability.metrics import RATE_LIMITED
from jobforge.store.protocol import Store


@dataclass(kw_only=True)
class ApiServices:
    """What the routes use; built by `create_app` and kept on `app.state.jobforge`."""

    settings: Settings
    store: Store
    bus: EventBus
    control: JobControl
    limiter: RateLimiter


def get_services(request: Request) -> ApiServices:
    """The services of the app serving this request."""
    services: ApiServices = request.app.state.jobforge
    return services


# Declared for the OpenAPI document (the lock icon in /docs); the header is parsed by
# `bearer_token` so that every failure is our 401 envelope.
_bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `Bearer jf_...`")


async def current_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    """The caller, from `Authorization: Bearer <api key>`; 401 otherwise."""
    services = get_services(request)
    key = bearer_token(request.headers.get("authorization"))
    return await authenticate(services.store, key)


Services = Annotated[ApiServices, Depends(get_services)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def client_address(request: Request) -> str:
    """The client's address as the server saw it (uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


async def limit_address(request: Request, response: Response) -> None:
    """Count this write in the client address's sliding window; 429 beyond the limit.

    Runs before authentication, so that requests with bad keys count as well."""
    services = get_services(request)
    decision = _or_fail(services, await services.limiter.hit_address(client_address(request)))
    _apply(decision, response)


async def charge_tenant(
    services: ApiServices, principal: Principal, response: Response, cost: int
) -> None:
    """Take `cost` tokens (one per job) from the tenant's bucket; 429 when it is empty."""
    decision = await services.limiter.hit_tenant(principal.tenant, max(1, cost))
    _apply(_or_fail(services, decision), response)


def _or_fail(services: ApiServices, decision: RateDecision | None) -> RateDecision | None:
    if decision is None and not services.settings.rate_limit_fail_open:
        raise ApiError(
            503,
            "rate_limiter_unavailable",
            "the rate limiter is unreachable and the API is configured to fail closed",
            headers={"Retry-After": "1"},
        )
    return decision


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    """The `RateLimit-*` headers (IETF draft) describing a decision."""
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(math.ceil(decision.reset_seconds)),
        "RateLimit-Policy": _policy(decision),
    }


def _policy(decision: RateDecision) -> str:
    if decision.scope == "ip":
        return f"{decision.limit};w=60;scope=ip"
    return f"{decision.limit};scope=tenant"


def _apply(decision: RateDecision | None, response: Response) -> None:
    if decision is None:
        return
    if not decision.allowed:
        RATE_LIMITED.labels(limit=decision.scope).inc()
        headers = rate_limit_headers(decision)
        headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests ({decision.scope} limit); retry after {headers['Retry-After']} s",
            details={"limit": decision.scope, "retry_after": headers["Retry-After"]},
            headers=headers,
        )
    # When both limits apply, report the one closer to refusing.
    current = response.headers.get("RateLimit-Remaining")
    if current is None or decision.remaining <= int(current):
        response.headers.update(rate_limit_headers(decision))


WriteLimited = Depends(limit_address)
"""Put in a write route's `dependencies=[...]`."""
