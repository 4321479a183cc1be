"""The jobforge Python SDK: `Client` (blocking) and `AsyncClient` over the HTTP API.

```python
from jobforge.client import Client

with Client("http://127.0.0.1:8000", api_key="jf_...") as jf:
    job = jf.create_job("email.send", {"to": "ada@example.com"})
    print(jf.wait_for_job(job.id).status)
```

Depends on httpx and `jobforge.domain` only, so it can be used far from any server code.
"""

from jobforge.client.client import DEFAULT_URL, AsyncClient
from jobforge.client.errors import (
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from jobforge.client.models import (
    AttemptInfo,
    BatchResult,
    Health,
    JobInfo,
    JobPage,
    JobRequest,
    Metrics,
    QueueInfo,
    Readiness,
    Throughput,
    WorkerInfo,
)
from jobforge.client.retry import NO_RETRY, RetryPolicy
from jobforge.client.sync import Client

__all__ = [
    "DEFAULT_URL",
    "NO_RETRY",
    "AsyncClient",
    "AttemptInfo",
    "BadRequest",
    "BatchResult",
    "Client",
    "ClientError",
    "Conflict",
    "Forbidden",
    "Health",
    "JobInfo",
    "JobPage",
    "JobRequest",
    "Metrics",
    "NotFound",
    "PayloadTooLarge",
    "QueueInfo",
    "RateLimited",
    "Readiness",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "Throughput",
    "TransportError",
    "Unauthorized",
    "ValidationFailed",
    "WorkerInfo",
]
