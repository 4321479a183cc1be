"""Idempotent submission: replay the original job, or refuse a different request (409).

The key comes from the `Idempotency-Key` header or the body's `idempotency_key` (both may
be given if they agree) and is scoped per tenant. Exactly-once creation is the store's job:
`enqueue_jobs` inserts against a unique (tenant, key) index and returns the existing job
with `created=False` when it loses a race, so concurrent API processes agree. What this
module adds is deciding whether a replay is "the same request": the stored job is compared
field by field with what the new request would have created (`mismatched_fields`). Fields
that the server fills in when the request leaves them out (`run_at`, `trace_id`) count only
when the request sets them.
"""

from __future__ import annotations

from typing import Any

from jobforge.api.errors import ApiError
from jobforge.domain.job import Job, NewJob

REPLAYED_HEADER = "Idempotent-Replayed"


def resolve_key(header: str | None, body: str | None) -> str | None:
    """The request's idempotency key; 422 when header and body disagree."""
    if header is not None and body is not None and header != body:
        raise ApiError(
            422,
            "validation_error",
            "the Idempotency-Key header and the body's idempotency_key differ",
            details=[
                {
                    "field": "body.idempotency_key",
                    "message": "must equal the Idempotency-Key header when both are given",
                    "type": "value_error",
                }
            ],
        )
    return header if header is not None else body


def mismatched_fields(new: NewJob, existing: Job) -> list[str]:
    """The fields in which `existing` differs from what `new` would have created."""
    wanted: dict[str, tuple[Any, Any]] = {
        "type": (new.type, existing.type),
        "queue": (new.queue, existing.queue),
        "priority": (new.priority, existing.priority),
        "payload": (new.payload, existing.payload),
        "max_attempts": (new.max_attempts, existing.max_attempts),
        "timeout_seconds": (new.timeout_seconds, existing.timeout_seconds),
    }
    if new.run_at is not None:
        wanted["run_at"] = (new.run_at, existing.run_at)
    if new.trace_id is not None:
        wanted["trace_id"] = (new.trace_id, existing.trace_id)
    return [name for name, (a, b) in wanted.items() if not _same(a, b)]


def _same(a: Any, b: Any) -> bool:
    # JSON round trips may turn 1.0 into 1 (and back); equal numbers are the same request.
    # `type(a) is type(b)` is deliberately not required, but bool vs int is kept distinct.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def conflict(key: str, fields: list[str], existing: Job, *, index: int | None = None) -> ApiError:
    """The 409 for a key reused with a different request."""
    details: dict[str, Any] = {
        "idempotency_key": key,
        "existing_job_id": str(existing.id),
        "differing_fields": fields,
    }
    if index is not None:
        details["index"] = index
    return ApiError(
        409,
        "idempotency_conflict",
        f"idempotency key {key!r} was already used for a different request "
        f"(differs in {', '.join(fields)})",
        details=details,
    )
