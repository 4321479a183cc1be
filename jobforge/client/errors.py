"""What the SDK raises: one exception per error status of the API, parsed from its envelope.

```
JobforgeError
 +-- ClientError                 anything the SDK raises; `status`, `code`, `message`, `details`
      +-- TransportError         no HTTP answer at all (refused, reset, timed out); status None
      +-- BadRequest             400  malformed request (e.g. invalid JSON)
      +-- Unauthorized           401  missing or unknown API key
      +-- Forbidden              403  the key may not do this (e.g. admin-only)
      +-- NotFound               404  no such job (or another tenant's)
      +-- Conflict               409  illegal state move, or an idempotency key reused
      +-- PayloadTooLarge        413  payload above the server's max_payload_bytes
      +-- ValidationFailed       422  a field is invalid; `details` lists which
      +-- RateLimited            429  slow down; `retry_after` seconds
      +-- ServerError            5xx  the server failed
           +-- ServiceUnavailable 503 store unreachable or not ready; `retry_after` seconds
```

The server's error body is `{"error": {"code", "message", "details"}}`; a response without
it (a proxy's HTML error page, say) still maps by status, with the body text as message.
"""

from __future__ import annotations

from typing import Any

import httpx

from jobforge.domain.errors import JobforgeError


class ClientError(JobforgeError):
    """An API call failed. `status` is None when no HTTP response arrived."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "error",
        details: Any = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.headers = headers if headers is not None else httpx.Headers()

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"{self.message} (HTTP {self.status} {self.code})"


class TransportError(ClientError):
    """The server could not be reached or did not answer in time."""


class BadRequest(ClientError):
    """400: the request was malformed."""


class Unauthorized(ClientError):
    """401: the API key is missing, unknown or revoked."""


class Forbidden(ClientError):
    """403: the API key is valid but may not do this."""


class NotFound(ClientError):
    """404: no such job (a job of another tenant is not found either)."""


class Conflict(ClientError):
    """409: the job's state does not allow this, or an idempotency key was reused."""


class PayloadTooLarge(ClientError):
    """413: the payload exceeds the server's limit."""


class ValidationFailed(ClientError):
    """422: a field is invalid; `details` is the server's list of problems."""


class _RetryAfter(ClientError):
    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (`Retry-After`), if it said."""
        return parse_retry_after(self.headers.get("retry-after"))


class RateLimited(_RetryAfter):
    """429: too many requests; wait `retry_after` seconds."""


class ServerError(ClientError):
    """5xx: the server failed to handle the request."""


class ServiceUnavailable(ServerError, _RetryAfter):
    """503: the server cannot serve right now (store unreachable); retry later."""


_BY_STATUS: dict[int, type[ClientError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
    503: ServiceUnavailable,
}


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds; the HTTP-date form is rare from APIs and is ignored."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> ClientError:
    """The exception for an error response, from its envelope when it has one."""
    code, message, details = _envelope(response)
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else ClientError
    return cls(
        message,
        status=response.status_code,
        code=code,
        details=details,
        headers=response.headers,
    )


def _envelope(response: httpx.Response) -> tuple[str, str, Any]:
    fallback_message = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return "error", (text[:200] if text else fallback_message), None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "error", fallback_message, body
    return (
        str(error.get("code") or "error"),
        str(error.get("message") or fallback_message),
        error.get("details"),
    )
