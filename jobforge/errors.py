"""The public exception tree; see `jobforge.domain.errors` for the drawing."""

from jobforge.domain.errors import (
    ConfigError,
    DoNotRetry,
    HandlerError,
    HandlerNotFound,
    IdempotencyConflict,
    IllegalTransition,
    JobforgeError,
    JobNotFound,
    StoreError,
    StoreUnavailable,
    TenantExists,
    TenantNotFound,
)

__all__ = [
    "ConfigError",
    "DoNotRetry",
    "HandlerError",
    "HandlerNotFound",
    "IdempotencyConflict",
    "IllegalTransition",
    "JobNotFound",
    "JobforgeError",
    "StoreError",
    "StoreUnavailable",
    "TenantExists",
    "TenantNotFound",
]
