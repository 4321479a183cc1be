"""The documented error responses of each route, so /docs and schema checks know them all,
and lookups in the app's OpenAPI document (route templates, a path's methods)."""

from __future__ import annotations

import re
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
    400: "Malformed JSON (`invalid_json`), an unreadable body, or a `cursor` this API did "
    "not issue (`invalid_cursor`).",
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


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class RouteTemplates:
    """Maps a request path to its route template (`/api/v1/jobs/{job_id}`), from the paths
    of the app's OpenAPI document. Routers included in routers do not expose their full
    template on the request in every FastAPI version, hence this table."""

    def __init__(self, paths: list[str]) -> None:
        # Literal paths win over parametrised ones that would also match (`/jobs/batch`
        # over `/jobs/{job_id}`): fewer parameters first.
        ordered = sorted(paths, key=lambda p: (p.count("{"), -len(p)))
        self._patterns = [(re.compile(_template_regex(p)), p) for p in ordered]

    def match(self, path: str) -> str:
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return "unmatched"

    def methods(self, document: dict[str, Any], path: str) -> list[str] | None:
        """The methods `document` declares for the template `path` falls under (HEAD with
        GET, as the router serves it), or None for a path the document does not know."""
        template = self.match(path)
        item = document.get("paths", {}).get(template)
        if item is None:
            return None
        methods = {m.upper() for m in item if m.upper() in _HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)


def _template_regex(template: str) -> str:
    parts = re.split(r"(\{[^}]+\})", template)
    return "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
