"""One error envelope for every error, and one table from the exception tree to statuses.

Every error the API returns, FastAPI's own 404/405/422 included, has the body
`{"error": {"code": "...", "message": "...", "details": ...}}`. Domain exceptions are mapped
by `DOMAIN_ERRORS` (most specific class first); errors the API raises itself are `ApiError`.
A database that cannot be reached is a 503 with `Retry-After` whichever layer noticed it
(the store's `StoreUnavailable`, or a driver/socket error that escaped it); anything else
unexpected is a 500 envelope without a traceback, and is logged with one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobforge.api.openapi import RouteTemplates
from jobforge.domain.errors import (
    IdempotencyConflict,
    IllegalTransition,
    JobforgeError,
    JobNotFound,
    StoreUnavailable,
    TenantNotFound,
)

log = structlog.get_logger(__name__)

STORE_RETRY_AFTER_SECONDS = 5
"""What a 503 for an unreachable store asks clients to wait: long enough for a failover or
a restart, short enough that a queue producer does not pile up work."""

DOMAIN_ERRORS: tuple[tuple[type[JobforgeError], int, str], ...] = (
    (StoreUnavailable, 503, "store_unavailable"),
    (JobNotFound, 404, "job_not_found"),
    (TenantNotFound, 404, "tenant_not_found"),
    (IllegalTransition, 409, "illegal_transition"),
    (IdempotencyConflict, 409, "idempotency_conflict"),
    (JobforgeError, 400, "bad_request"),
)
"""The exception tree -> (status, code). First match wins, so subclasses come first."""

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error the API answers with its envelope: status, stable code, message, details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error body every error response carries."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(error: ApiError) -> JSONResponse:
    """The response for an `ApiError`."""
    return JSONResponse(
        envelope(error.code, error.message, error.details),
        status_code=error.status,
        headers=error.headers,
    )


def store_unavailable(message: str = "the job store is unreachable; retry later") -> ApiError:
    """The 503 an unreachable database answers, with `Retry-After`."""
    return ApiError(
        503,
        "store_unavailable",
        message,
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def from_domain(exc: JobforgeError) -> ApiError:
    """Map a domain exception to an `ApiError` through `DOMAIN_ERRORS`."""
    if isinstance(exc, StoreUnavailable):
        return store_unavailable()
    for cls, status, code in DOMAIN_ERRORS:
        if isinstance(exc, cls):
            return ApiError(status, code, str(exc), details=_domain_details(exc))
    raise AssertionError("JobforgeError is the last row of DOMAIN_ERRORS")  # pragma: no cover


def _domain_details(exc: JobforgeError) -> dict[str, Any] | None:
    if isinstance(exc, IllegalTransition):
        return {
            "job_id": None if exc.job_id is None else str(exc.job_id),
            "from": None if exc.source is None else exc.source.value,
            "to": exc.target.value,
        }
    if isinstance(exc, JobNotFound):
        return {"job_id": str(exc.job_id)}
    if isinstance(exc, IdempotencyConflict):
        return {"idempotency_key": exc.key}
    return None


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors reduced to what is safe to echo: where, what, and which kind.

    The offending input is left out on purpose: it may be megabytes of payload or values
    that do not serialise (bytes, NaN)."""
    details = []
    for err in exc.errors():
        loc = [part if isinstance(part, int) else str(part) for part in err.get("loc", ())]
        details.append(
            {
                "field": ".".join(str(p) for p in loc),
                "loc": loc,
                "message": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return details


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JobforgeError)
    return error_response(from_domain(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(ApiError(400, "invalid_json", "the request body is not valid JSON"))
    fields = ", ".join(dict.fromkeys(d["field"] for d in details)) or "request"
    return error_response(ApiError(422, "validation_error", f"invalid {fields}", details=details))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        code = "invalid_json"
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = allowed_methods(request)
        if allow:
            headers["Allow"] = allow
    return error_response(ApiError(exc.status_code, code, message, headers=headers))


def allowed_methods(request: Request) -> str | None:
    """The `Allow` header of a 405: every method the OpenAPI document declares for the path.

    Starlette names only the methods of the first route whose path matched, but one path is
    often served by several routes (`GET /jobs` and `POST /jobs`). A literal path is its own
    resource even where a parametrised one would also match it: `/jobs/batch` allows POST,
    whatever `GET /jobs/{job_id}` would make of the word "batch". None for paths outside the
    document (the dashboard), where Starlette's own header stands."""
    document = request.app.openapi()
    methods = RouteTemplates(list(document.get("paths", {}))).methods(
        document, request.scope["path"]
    )
    return ", ".join(methods) if methods else None


async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
    # A driver or socket error that escaped the store means the database went away under
    # the request: the caller should retry, which is what 503 + Retry-After says.
    log.warning("store unreachable", path=request.url.path, error=repr(exc))
    return error_response(store_unavailable())


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return error_response(ApiError(500, "internal_error", "an unexpected error occurred"))


CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    OperationalError,
    DisconnectionError,
)
"""Failures that mean "the database did not answer", mapped to 503 like StoreUnavailable."""


def install_error_handlers(app: FastAPI) -> None:
    """Register the envelope for every error path on `app`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(JobforgeError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for cls in CONNECTION_ERRORS:
        app.add_exception_handler(cls, _unreachable)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    # Registered for Exception, Starlette runs this in its outermost middleware, so even an
    # error in a middleware gets the envelope rather than a bare "Internal Server Error".
    app.add_exception_handler(Exception, _unexpected)


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        return await _unreachable(request, exc)
    return await _unexpected(request, exc)
