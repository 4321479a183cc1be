"""The exception tree of jobforge.

```
JobforgeError
 +-- ConfigError                  a setting has a bad value (the value is in the message)
 +-- StoreError                   the store refused or failed an operation
 |    +-- StoreUnavailable        the database cannot be reached (API: 503)
 |    +-- JobNotFound             no such job for this tenant (API: 404)
 |    +-- IllegalTransition       the job's state does not allow the move (API: 409)
 |    +-- IdempotencyConflict     the key was used for a different request (API: 409)
 |    +-- TenantExists            a tenant of that name exists already
 |    +-- TenantNotFound          no such tenant
 +-- HandlerError                 raised by handler code to steer the retry policy
 |    +-- DoNotRetry              fail the job straight to dead, attempts left or not
 +-- HandlerNotFound              no handler is registered for the job's type
```

`api/errors.py` maps this tree to HTTP statuses in one table, and `client/errors.py`
mirrors it on the client side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobforge.domain.states import JobState


class JobforgeError(Exception):
    """Base of every error jobforge raises on purpose."""


class ConfigError(JobforgeError, ValueError):
    """A configuration value is invalid; the message names the value."""


class StoreError(JobforgeError):
    """The store refused or failed an operation."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now; retry later."""


class JobNotFound(StoreError):
    """No job with this id is visible to the caller."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class IllegalTransition(StoreError):
    """A job cannot move from its current state to the requested one."""

    def __init__(self, source: JobState | None, target: JobState, *, job_id: object = None) -> None:
        where = f"job {job_id} " if job_id is not None else ""
        src = source.value if source is not None else "(new)"
        super().__init__(f"{where}cannot move from {src} to {target.value}")
        self.source = source
        self.target = target
        self.job_id = job_id


class IdempotencyConflict(StoreError):
    """The idempotency key was already used for a different request."""

    def __init__(self, key: str, existing: Any = None) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key
        self.existing = existing


class TenantExists(StoreError):
    """A tenant with this name exists already."""


class TenantNotFound(StoreError):
    """No tenant with this name exists."""


class HandlerError(JobforgeError):
    """Base for errors a handler raises to steer how its job is retried."""


class DoNotRetry(HandlerError):
    """Raised by a handler: the job goes straight to `dead`, whatever attempts remain."""


class HandlerNotFound(JobforgeError):
    """No handler is registered for this job type."""

    def __init__(self, job_type: str) -> None:
        super().__init__(f"no handler registered for job type {job_type!r}")
        self.job_type = job_type
