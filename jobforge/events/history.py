"""`RecentHistory`: the state changes this process has heard about, per job, bounded.

The store keeps a job's attempts, timestamps and the actions people took (who retried or
cancelled it), but not every state a job passed through: an earlier attempt's start, a
failure retried since. The dashboard's timeline fills those gaps from what the event stream
carried while this process was running. It is bounded (least recently changed jobs are
forgotten first) and lost on restart, and the page marks those entries as such.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable

from jobforge.events.types import JobEvent

DEFAULT_MAX_JOBS = 10_000
DEFAULT_PER_JOB = 50


class RecentHistory:
    """The last `per_job` events of each of the `max_jobs` most recently changed jobs."""

    def __init__(self, *, max_jobs: int = DEFAULT_MAX_JOBS, per_job: int = DEFAULT_PER_JOB):
        if max_jobs < 1 or per_job < 1:
            raise ValueError(f"max_jobs and per_job must be positive, got {max_jobs}, {per_job}")
        self._max_jobs = max_jobs
        self._per_job = per_job
        self._jobs: OrderedDict[uuid.UUID, deque[JobEvent]] = OrderedDict()

    def add(self, events: Iterable[JobEvent]) -> None:
        """Remember events, forgetting the least recently changed jobs beyond the bound."""
        for event in events:
            history = self._jobs.pop(event.job_id, None)
            if history is None:
                history = deque(maxlen=self._per_job)
            history.append(event)
            self._jobs[event.job_id] = history
            if len(self._jobs) > self._max_jobs:
                self._jobs.popitem(last=False)

    def annotate(self, event: JobEvent) -> None:
        """Give the job's latest remembered change this event's actor, when they announce the
        same state (the store poller saw the change first, without knowing who acted)."""
        history = self._jobs.get(event.job_id)
        if not history or event.actor is None:
            return
        last = history[-1]
        if (last.status, last.attempt, last.actor) == (event.status, event.attempt, None):
            history[-1] = event

    def of(self, job_id: uuid.UUID) -> list[JobEvent]:
        """The remembered events of one job, oldest first (empty if none)."""
        return list(self._jobs.get(job_id, ()))
