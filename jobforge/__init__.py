"""jobforge: durable background jobs for Python."""

from jobforge.domain.backoff import Backoff
from jobforge.domain.job import AttemptError, Job, NewJob
from jobforge.domain.states import JobState
from jobforge.errors import DoNotRetry, JobforgeError

__version__ = "0.1.0"

__all__ = [
    "AttemptError",
    "Backoff",
    "DoNotRetry",
    "Job",
    "JobState",
    "JobforgeError",
    "NewJob",
    "__version__",
]
