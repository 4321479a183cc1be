"""The documented error responses of each route, so /docs and schema checks know them all."""

from __future__ import annotations

from typing import Any

from jobforge.api.schemas import ErrorEnvelope

_INT_HEADER = {"schema": {"type": "string", "pattern": "^[0-9]+$"}}

_RATE_HEADERS = {
    "Retry-After": {"description": "Seconds to wait before retrying.", **_INT_HEADER},
    "RateLimit-Limit": {"description": "Capacity of the limit that refused.", **_INT_HEADER},
    "RateLimit-Remaining": {"description": "Always 0 here.", **_INT_HEADER},
    "RateLimit-Reset": {"description": "Seconds until capacity is back.", **_INT_HEADER},
}

_DESCRIPTIONS = {
    400: "Malformed JSON (`invalid_json`) or an unreadable body.",
    401: "Missing, unknown or revoked API key.",
    403: "The key may not act on that tenant.",
    404: "No such job for this tenant.",
    409: "The job's state does not allow this, or an idempotency key was reused "
    "for a different request.",
    413: "The request body or a payload is larger than the configured limit.",
    422: "A field is invalid; `details` names each one.",
    429: "Rate limited (per-tenant bucket or per-address window).",
    503: "The job store (or, when failing closed, the rate limiter) is unreachable.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all with the error envelope."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": ErrorEnvelope, "description": _DESCRIPTIONS[code]}
        if code == 429:
            entry["headers"] = _RATE_HEADERS
        if code == 503:
            entry["headers"] = {"Retry-After": _RATE_HEADERS["Retry-After"]}
        out[code] = entry
    return out


READ_ERRORS = (400, 401, 403, 422, 503)
"""Every authenticated read can fail in these ways."""

WRITE_ERRORS = (*READ_ERRORS, 413, 429)
"""Every write can also be too large or rate limited."""
