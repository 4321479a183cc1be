"""jobforge: durable background jobs for Python.

```python
from jobforge import JobForge, TaskContext, Client

forge = JobForge()                      # handlers, run by `jobforge worker --app mod:forge`

@forge.task("email.send", max_attempts=5)
async def send(payload: dict, ctx: TaskContext) -> dict: ...

with Client("http://127.0.0.1:8000", api_key="jf_...") as jf:   # the HTTP SDK
    jf.create_job("email.send", {"to": "ada@example.com"})
```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jobforge.domain.backoff import Backoff
from jobforge.domain.job import AttemptError, Job, NewJob
from jobforge.domain.states import JobState
from jobforge.errors import DoNotRetry, JobforgeError

if TYPE_CHECKING:
    from jobforge.app import JobForge
    from jobforge.client import AsyncClient, Client
    from jobforge.worker.registry import TaskContext

__version__ = "0.1.0"

# Imported on first use, so that `import jobforge.client` on a machine that only submits
# jobs does not load the store, SQLAlchemy and the worker runtime.
_LAZY = {
    "JobForge": "jobforge.app",
    "TaskContext": "jobforge.worker.registry",
    "Client": "jobforge.client",
    "AsyncClient": "jobforge.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jobforge' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AsyncClient",
    "AttemptError",
    "Backoff",
    "Client",
    "DoNotRetry",
    "Job",
    "JobForge",
    "JobState",
    "JobforgeError",
    "NewJob",
    "TaskContext",
    "__version__",
]
